import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestPki, TestSignerName, TestSignOptions } from './pki';

/**
 * How a built update is spoiled, to prove the pipeline refuses it:
 * - `corrupt`: bytes changed after the SHA-256 was published (checksum stage);
 * - `forged`: signed by a CA the pipeline does not trust (signature stage);
 * - `swapped-signature`: a valid vendor signature, but of other bytes (signature stage);
 * - `weak-key`: signed with RSA-1024 (policy stage).
 */
export type Tamper = 'corrupt' | 'forged' | 'swapped-signature' | 'weak-key';

export interface FeedUpdateSpec {
  kind: string;
  component: string;
  platform?: string;
  version: string;
  /** Artifact bytes, or a size for random bytes. */
  content?: Buffer | number;
  signer?: TestSignerName;
  signOptions?: Omit<TestSignOptions, 'out'>;
  tamper?: Tamper;
  /** Overrides merged into the index entry last, for malformed-entry tests. */
  entry?: Record<string, unknown>;
  /** Do not write the artifact file (a missing-artifact test). */
  omitArtifact?: boolean;
}

export interface BuildFeedOptions {
  feed?: string;
  sequence?: number;
  generatedAt?: Date;
  expiresAt?: Date;
  updates: FeedUpdateSpec[];
  /** Signer of index.json; default the trusted RSA signer. */
  indexSigner?: TestSignerName;
}

export interface BuiltFeed {
  dir: string;
  url: string;
  index: { feed: string; sequence: number; updates: Record<string, unknown>[] };
}

const SIGNING_CONCURRENCY = 4;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function defaultArtifactPath(
  u: Pick<FeedUpdateSpec, 'kind' | 'component' | 'platform' | 'version'>,
): string {
  return u.kind === 'software'
    ? `${u.component}/${u.platform ?? 'any'}/${u.component}-${u.version}.zip`
    : `${u.component}/${u.component}-${u.version}.bin`;
}

/** Writes a vendor feed (artifacts, detached CMS signatures, index.json and its signature) into `dir`. */
export async function buildFeed(
  dir: string,
  pki: TestPki,
  options: BuildFeedOptions,
): Promise<BuiltFeed> {
  // One openssl process per signature: a few at once keep both cores busy on large feeds.
  const entries = new Array<Record<string, unknown>>(options.updates.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < options.updates.length; i = next++) {
      entries[i] = await writeUpdate(dir, pki, options.updates[i]);
    }
  };
  await Promise.all(Array.from({ length: SIGNING_CONCURRENCY }, worker));
  const now = Date.now();
  const index = {
    schemaVersion: 1,
    feed: options.feed ?? 'acme-active-update',
    sequence: options.sequence ?? 1,
    generatedAt: (options.generatedAt ?? new Date(now - 60_000)).toISOString(),
    expiresAt: (options.expiresAt ?? new Date(now + 14 * 86_400_000)).toISOString(),
    updates: entries,
  };
  await mkdir(dir, { recursive: true });
  const indexPath = join(dir, 'index.json');
  await writeFile(indexPath, `${JSON.stringify(index, null, 2)}\n`);
  await pki.sign(indexPath, options.indexSigner ?? 'rsa', { out: `${indexPath}.p7s` });
  return { dir, url: pathToFileURL(dir).href + '/', index };
}

async function writeUpdate(
  dir: string,
  pki: TestPki,
  u: FeedUpdateSpec,
): Promise<Record<string, unknown>> {
  const content = Buffer.isBuffer(u.content) ? u.content : randomBytes(u.content ?? 4096);
  const path = defaultArtifactPath(u);
  const file = join(dir, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  const signer: TestSignerName =
    u.tamper === 'forged' ? 'rogue' : u.tamper === 'weak-key' ? 'weakRsa' : (u.signer ?? 'rsa');
  if (u.tamper === 'swapped-signature') {
    const other = `${file}.other`;
    await writeFile(other, Buffer.concat([content, Buffer.from('other bytes')]));
    await pki.sign(other, signer, { ...u.signOptions, out: `${file}.p7s` });
  } else {
    await pki.sign(file, signer, { ...u.signOptions, out: `${file}.p7s` });
  }
  const published = { size: content.length, sha256: sha256(content) };
  if (u.tamper === 'corrupt') {
    const bad = Buffer.from(await readFile(file));
    bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
    await writeFile(file, bad);
  }
  if (u.omitArtifact) await rm(file);
  return {
    kind: u.kind,
    component: u.component,
    ...(u.platform ? { platform: u.platform } : {}),
    version: u.version,
    releasedAt: new Date().toISOString(),
    artifact: { path, ...published },
    signature: { path: `${path}.p7s`, format: 'cms-detached-der' },
    ...u.entry,
  };
}

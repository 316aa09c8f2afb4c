import { CmsVerificationError } from '@sup/integrity';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ReceivedBundle, ReceivedFile } from './bundle-intake';
import { badBundle, unacceptable } from './import-refusal';
import { labelOf, type IndexEntry } from './index-targets';

/** One update of a bundle: an entry of the verified index with both its files received. */
export interface BundleEntry extends IndexEntry {
  artifact: ReceivedFile;
  signature: ReceivedFile;
}

/**
 * The entries a bundle carries, in index order. An entry with one of its two files is refused;
 * entries the bundle carries no file of are simply not imported (a bundle may carry a few updates
 * of a large vendor index). Each artifact is checked against its own entry's signed values again,
 * for indexes that name one path twice.
 */
export function bundleEntries({ targets, files }: ReceivedBundle): BundleEntry[] {
  const entries: BundleEntry[] = [];
  for (const indexed of targets.entries) {
    const { artifact: a, signature: s } = indexed.entry;
    const artifact = files.get(a.path);
    const signature = files.get(s.path);
    if (!artifact && !signature) continue;
    if (!artifact || !signature) {
      const missing = artifact ? s.path : a.path;
      throw badBundle(
        'incomplete-entry',
        `${labelOf(indexed)} needs both its artifact and its signature; ${missing} is missing`,
      );
    }
    if (artifact.sha256 !== a.sha256 || artifact.size !== a.size) {
      throw unacceptable(
        'sha256-mismatch',
        `${a.path} (${labelOf(indexed)}) does not have the size and SHA-256 the index signs`,
      );
    }
    entries.push({ ...indexed, artifact, signature });
  }
  if (entries.length === 0) {
    throw badBundle(
      'no-entries',
      'the bundle holds no update: add the artifact and signature files the index names',
    );
  }
  return entries;
}

/** A detached CMS check with the service's trust material; throws CmsVerificationError. */
export type VerifySignature = (signature: Buffer, content: () => Readable) => Promise<unknown>;

/**
 * The signature file is the one part of an entry the index does not sign, so an upload could
 * pair a genuine artifact with junk and have the update (whose id is already taken by its signed
 * labels and SHA-256) rejected for good. Checked here, before anything is recorded, a bad one
 * refuses the bundle instead; signature-validator still gives the verdict (and applies the
 * crypto policy) on what is recorded.
 */
export async function checkSignatures(
  entries: BundleEntry[],
  verify: VerifySignature,
): Promise<void> {
  for (const e of entries) {
    try {
      await verify(await readFile(e.signature.tempPath), () =>
        createReadStream(e.artifact.tempPath),
      );
    } catch (error) {
      if (!(error instanceof CmsVerificationError)) throw error;
      throw unacceptable(
        'signature-invalid',
        `${e.signature.path} does not verify over ${e.artifact.path} (${error.code}); nothing was recorded`,
      );
    }
  }
}

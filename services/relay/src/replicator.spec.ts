import { parseTrustAnchors, TrustStore } from '@sup/integrity';
import { createTestPki, type TestPki } from '@sup/testing';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ContentCache } from './content-cache';
import { ControlPlaneClient, type ControlPlaneEntry } from './control-plane.client';
import { RelayRefusal, Replicator } from './replicator';

let dir: string;
let pki: TestPki;
let server: Server;
let base: string;
/** What the file server answers, by path. */
const files = new Map<string, Buffer>();
let requests = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-relay-replicator-'));
  pki = await createTestPki(dir);
  server = createServer((req, res) => {
    requests++;
    const body = files.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}, 90_000);

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** An update as the control plane offers it: bytes, its detached signature, its catalog entry. */
async function offer(
  name: string,
  opts: { signer?: 'rsa' | 'rogue'; version?: string; tamper?: boolean; size?: number } = {},
): Promise<ControlPlaneEntry> {
  const bytes = randomBytes(opts.size ?? 50_000);
  const signature = await pki.signBuffer(bytes, opts.signer ?? 'rsa');
  const served = opts.tamper ? Buffer.concat([bytes.subarray(1), Buffer.from('x')]) : bytes;
  files.set(`/v1/updates/${name}/artifact`, served);
  files.set(`/v1/updates/${name}/signature`, signature);
  return {
    updateId: name,
    kind: 'software',
    component: 'agent',
    platform: 'linux-x86_64',
    version: opts.version ?? '20.0.1-100',
    sha256: sha(bytes),
    size: bytes.length,
    artifactPath: `/v1/updates/${name}/artifact`,
    signaturePath: `/v1/updates/${name}/signature`,
    required: false,
  };
}

async function setup(maxBytes = 10 * 1024 * 1024) {
  const cacheDir = await mkdtemp(join(dir, 'cache-'));
  const cache = new ContentCache(cacheDir, maxBytes);
  await cache.load();
  const anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), 'anchors');
  const trust = new TrustStore({ anchors, intermediates: [], crls: [] });
  const replicator = new Replicator(
    cache,
    new ControlPlaneClient(base, 'sup_relay_test_token'),
    () => trust,
    pino({ level: 'silent' }),
    10_000,
  );
  return { cache, cacheDir, replicator };
}

const objects = (cacheDir: string): string[] => readdirSync(join(cacheDir, 'objects')).sort();

describe('Replicator', () => {
  it('keeps a verified update under its digest, with its signature, and survives a restart', async () => {
    const { cache, cacheDir, replicator } = await setup();
    const entry = await offer('u-good');
    const kept = await replicator.ensure(entry, new Set());
    expect(kept.sha256).toBe(entry.sha256);
    expect(objects(cacheDir)).toEqual([entry.sha256, `${entry.sha256}.p7s`]);
    expect(sha(readFileSync(cache.artifactPath(entry.sha256)))).toBe(entry.sha256);
    expect(await cache.isVerified(entry.sha256)).toBe(true);

    const reopened = new ContentCache(cacheDir, 10 * 1024 * 1024);
    expect(await reopened.load()).toEqual({ kept: 1, dropped: 0 });
    expect(reopened.get(entry.sha256)?.entry.updateId).toBe('u-good');
  });

  it('shares one download between concurrent requests for the same file', async () => {
    const { replicator } = await setup();
    const entry = await offer('u-shared');
    const before = requests;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => replicator.ensure(entry, new Set())));
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(requests - before).toBe(2); // the artifact and its signature, once
  });

  it.each([
    ['a signature by an untrusted root', { signer: 'rogue' as const }, 'signature-invalid'],
    ['bytes that do not hash to the published digest', { tamper: true }, 'digest-mismatch'],
  ])('keeps nothing of %s', async (_, opts, code) => {
    const { cache, cacheDir, replicator } = await setup();
    const entry = await offer(`u-${code}`, opts);
    const error = await replicator.ensure(entry, new Set()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RelayRefusal);
    expect(error).toMatchObject({ code });
    expect(cache.entries()).toEqual([]);
    expect(objects(cacheDir)).toEqual([]);
    expect(readdirSync(join(cacheDir, 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('evicts a superseded build for a newer one, never a required file', async () => {
    const { cache, replicator } = await setup(1024 * 1024 + 30_000);
    const old = await offer('u-old', { version: '20.0.1-100', size: 400_000 });
    const pinned = await offer('u-pinned', { version: '20.0.1-150', size: 400_000 });
    await replicator.ensure(old, new Set());
    await replicator.ensure(pinned, new Set());
    const newer = await offer('u-new', { version: '20.0.2-1', size: 400_000 });
    await replicator.ensure(newer, new Set([pinned.sha256]));
    expect(cache.get(old.sha256)).toBeUndefined();
    expect(existsSync(cache.artifactPath(old.sha256))).toBe(false);
    expect(cache.get(pinned.sha256)).toBeDefined();
    expect(cache.get(newer.sha256)).toBeDefined();

    const huge = await offer('u-huge', { version: '20.0.3-1', size: 900_000 });
    await expect(
      replicator.ensure(huge, new Set([pinned.sha256, newer.sha256])),
    ).rejects.toMatchObject({ code: 'cache-full' });
    expect(cache.get(pinned.sha256)).toBeDefined();
  });
});

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentCache } from './content-cache';
import type { ControlPlaneEntry } from './control-plane.client';

const d = (c: string): string => c.repeat(64);
const entry = (sha: string): ControlPlaneEntry => ({
  updateId: `upd_${sha.slice(0, 24)}`,
  kind: 'security',
  component: 'firewall-rules',
  version: '26-001',
  sha256: sha,
  size: 3,
  artifactPath: '/v1/updates/x/artifact',
  signaturePath: '/v1/updates/x/signature',
  required: false,
});

/** Puts a 3-byte file and a 2-byte signature under `sha` (the cache trusts its caller's checks). */
async function put(cache: ContentCache, sha: string): Promise<void> {
  const a = join(cache.dir, 'tmp', `${sha}.part`);
  writeFileSync(a, 'abc');
  writeFileSync(`${a}.p7s`, 'sg');
  await cache.put(
    { sha256: sha, size: 3, signatureSha256: d('f'), signatureSize: 2, entry: entry(sha) },
    a,
    `${a}.p7s`,
  );
}

describe('ContentCache', () => {
  it('recovers what the index names and whose files are whole, and removes the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-cache-'));
    const cache = new ContentCache(dir, 1024 * 1024);
    await cache.load();
    await put(cache, d('a'));
    await put(cache, d('b'));
    await put(cache, d('c'));
    writeFileSync(cache.artifactPath(d('b')), 'ab'); // truncated on disk
    writeFileSync(cache.artifactPath(d('e')), 'orphan'); // moved in, never recorded

    const reopened = new ContentCache(dir, 1024 * 1024);
    expect(await reopened.load()).toEqual({ kept: 2, dropped: 1 });
    expect(
      reopened
        .entries()
        .map((e) => e.sha256)
        .sort(),
    ).toEqual([d('a'), d('c')]);
    expect(existsSync(cache.artifactPath(d('e')))).toBe(false);
    expect(existsSync(cache.artifactPath(d('b')))).toBe(false);
    expect(reopened.totalBytes()).toBe(10);
  });

  it('knows a file changed since its digest matched, and keeps failure attempts across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-cache-'));
    const cache = new ContentCache(dir, 1024 * 1024);
    await cache.load();
    await put(cache, d('a'));
    expect(await cache.isVerified(d('a'))).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(cache.artifactPath(d('a')), 'abd'); // same size, new mtime
    expect(await cache.isVerified(d('a'))).toBe(false);

    expect(await cache.nextFailureAttempt('upd_x')).toBe(1);
    expect(await cache.nextFailureAttempt('upd_x')).toBe(2);
    const reopened = new ContentCache(dir, 1024 * 1024);
    await reopened.load();
    expect(await reopened.nextFailureAttempt('upd_x')).toBe(3);
    expect(JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))).toMatchObject({
      failures: { upd_x: 3 },
    });
  });
});

import {
  buildFeed,
  createTestPki,
  freePort,
  Pipeline,
  serviceEntry,
  type TestPki,
} from '@sup/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates, syncAndWait } from './helpers';

jest.setTimeout(240_000);

describe('bad input gets a clear error and changes nothing', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let root: string;
  let env: Record<string, string>;
  let closedPort: number;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-bad-'));
    pki = await createTestPki(join(root, 'pki'));
    closedPort = await freePort();
    env = allowFeeds(pathToFileURL(root).href, `http://127.0.0.1:${closedPort}/`);
    pipeline = await Pipeline.start({ trustAnchors: pki.trustAnchorsPem, env });
  });
  afterAll(() => pipeline?.stop());

  const feed = (name: string, opts: Partial<Parameters<typeof buildFeed>[2]> = {}) =>
    buildFeed(join(root, name), pki, {
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-070' }],
      ...opts,
    });

  it('fails a sync of an unreachable feed without saying why (no port oracle)', async () => {
    const s = await syncAndWait(pipeline, `http://127.0.0.1:${closedPort}/feed/`);
    expect(s.state).toBe('failed');
    expect(s.reason).toMatch(/^feed-unreadable: /);
  });

  it('refuses a malformed index.json', async () => {
    const f = await feed('malformed');
    await writeFile(join(f.dir, 'index.json'), '{"schemaVersion": 1, "feed": ');
    await pki.sign(join(f.dir, 'index.json'), 'rsa', { out: join(f.dir, 'index.json.p7s') });
    const s = await syncAndWait(pipeline, f.url);
    expect(s).toMatchObject({ state: 'refused', imported: 0 });
    expect(s.reason).toMatch(/index/i);
  });

  it('refuses an index whose signature does not chain to a trust anchor', async () => {
    const f = await feed('rogue-index', { indexSigner: 'rogue' });
    const s = await syncAndWait(pipeline, f.url);
    expect(s).toMatchObject({ state: 'refused', imported: 0 });
    expect(s.reason).toMatch(/signature/);
  });

  it('refuses an index edited after it was signed', async () => {
    const f = await feed('edited-index');
    const text = await readFile(join(f.dir, 'index.json'), 'utf8');
    await writeFile(join(f.dir, 'index.json'), text.replace('"sequence": 1', '"sequence": 99'));
    const s = await syncAndWait(pipeline, f.url);
    expect(s).toMatchObject({ state: 'refused', imported: 0 });
  });

  it('refuses an expired index (freeze) and an older sequence (rollback)', async () => {
    const expired = await feed('expired', {
      feed: 'freeze-feed',
      expiresAt: new Date(Date.now() - 1000),
      generatedAt: new Date(Date.now() - 86_400_000),
    });
    const s1 = await syncAndWait(pipeline, expired.url);
    expect(s1).toMatchObject({ state: 'refused' });
    expect(s1.reason).toMatch(/expired/);

    const newer = await feed('seq-5', { feed: 'rollback-feed', sequence: 5 });
    expect(await syncAndWait(pipeline, newer.url)).toMatchObject({
      state: 'completed',
      imported: 1,
    });
    const older = await feed('seq-4', {
      feed: 'rollback-feed',
      sequence: 4,
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-071' }],
    });
    const s2 = await syncAndWait(pipeline, older.url);
    expect(s2).toMatchObject({ state: 'refused', imported: 0 });
    expect(s2.reason).toMatch(/rollback/);
  });

  it('fails the entry whose signature file is missing on the sync, with no verdict on the update', async () => {
    const f = await feed('no-signature', {
      feed: 'no-signature-feed',
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-072' }],
    });
    await rm(join(f.dir, 'firewall-rules/firewall-rules-26-072.bin.p7s'));
    // Missing may mean "not uploaded yet": retried, then reported on the sync, never a rejection.
    const sync = await syncAndWait(pipeline, f.url);
    expect(sync).toMatchObject({
      state: 'failed',
      rejected: 0,
      failed: 1,
      failures: [{ index: 0, code: 'signature-missing' }],
    });
    expect((await allUpdates(pipeline)).some((x) => x.version === '26-072')).toBe(false);
  });

  it('answers 400 for a bad sync request', async () => {
    const badScheme = await pipeline.api<{ message: string }>('POST', '/v1/feeds/sync', {
      url: 'ftp://example.invalid/feed/',
    });
    expect(badScheme.status).toBe(400);
    const extra = await pipeline.api<{ details: string[] }>('POST', '/v1/feeds/sync', {
      url: 'file:///tmp/',
      mirror: true,
    });
    expect(extra.status).toBe(400);
    const noUrl = await pipeline.api<{ message: string }>('POST', '/v1/feeds/sync', {});
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.message).toContain('FEED_URL');
    expect((await pipeline.api('GET', '/v1/feeds/syncs/sync_nope')).status).toBe(404);
  });

  it('stops a service at start-up with a readable list of bad settings', () => {
    const run = spawnSync(process.execPath, [serviceEntry('signature-validator')], {
      env: { PATH: process.env.PATH, NATS_URL: 'http://not-nats', JS_MAX_DELIVER: 'many' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('signature-validator: invalid configuration');
    for (const name of ['TRUST_ANCHORS', 'NATS_URL', 'JS_MAX_DELIVER'])
      expect(run.stderr).toContain(name);
  });

  it('stops a service at start-up when TRUST_ANCHORS names a missing file', () => {
    const run = spawnSync(process.execPath, [serviceEntry('ingest')], {
      env: { PATH: process.env.PATH, TRUST_ANCHORS: '/nonexistent/roots.pem' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('/nonexistent/roots.pem');
  });

  it('restricts sync URLs to FEED_ALLOWED_URL_PREFIXES when set', async () => {
    await pipeline.stopService('ingest');
    const port = await freePort();
    pipeline.options.env = { FEED_ALLOWED_URL_PREFIXES: `http://127.0.0.1:${port}/` };
    await pipeline.startService('ingest');
    try {
      const denied = await pipeline.api<{ message: string }>('POST', '/v1/feeds/sync', {
        url: 'file:///etc/',
      });
      expect(denied.status).toBe(400);
      expect(denied.body.message).toContain('not allowed');
      const ok = await pipeline.api('POST', '/v1/feeds/sync', {
        url: `http://127.0.0.1:${port}/feed/`,
      });
      expect(ok.status).toBe(202);
    } finally {
      await pipeline.stopService('ingest');
      pipeline.options.env = env;
      await pipeline.startService('ingest');
    }
  });
});

import { buildFeed, createTestPki, freePort, Pipeline, type TestPki } from '@sup/testing';
import { createReadStream, mkdtempSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allowFeeds, allUpdates, find, settled, syncAndWait, type SyncStatus } from './helpers';

jest.setTimeout(240_000);

type Fault = 'none' | 'fail-503-twice' | 'trickle';

/**
 * A feed server with faults on chosen files: `fail-503-twice` answers 503 to the first two
 * requests of the file and serves it after; `trickle` sends headers and then one byte every
 * 500 ms, never finishing within any sane time.
 */
async function faultyServer(
  root: string,
  faults: Record<string, Fault>,
  port: number,
): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const fault = faults[path] ?? 'none';
    if (fault === 'fail-503-twice' && n <= 2) return void res.writeHead(503).end('busy');
    stat(join(root, path)).then(
      (s) => {
        res.writeHead(200, { 'content-length': s.size });
        if (fault !== 'trickle') return void createReadStream(join(root, path)).pipe(res);
        const timer = setInterval(() => res.write(Buffer.from([0])), 500);
        timers.add(timer);
        res.on('close', () => clearInterval(timer));
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    hits,
    close: () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('transient feed faults are retried; a sync always ends', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let root: string;
  let ports: number[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-faults-'));
    pki = await createTestPki(join(root, 'pki'));
    // Each test's server gets a port allow-listed up front: loopback URLs are refused otherwise.
    ports = [await freePort(), await freePort(), await freePort()];
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: {
        ...allowFeeds(...ports.map((port) => `http://127.0.0.1:${port}/`)),
        JS_MAX_DELIVER: '3',
        JS_BACKOFF_MS: '300,600',
        FEED_ENTRY_TIMEOUT_MS: '2000',
        FEED_TIMEOUT_MS: '1000',
        FEED_SYNC_DEADLINE_MS: '60000',
        FEED_SYNC_SWEEP_MS: '1000',
      },
    });
  });
  afterAll(() => pipeline?.stop());

  it('imports an entry whose artifact answered 503 before it answered 200', async () => {
    const feed = await buildFeed(join(root, 'flaky'), pki, {
      feed: 'flaky',
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-080' },
        { kind: 'security', component: 'firewall-rules', version: '26-081' },
      ],
    });
    const flakyPath = 'firewall-rules/firewall-rules-26-080.bin';
    const server = await faultyServer(feed.dir, { [flakyPath]: 'fail-503-twice' }, ports[0]);
    try {
      const sync = await syncAndWait(pipeline, server.url);
      expect(sync).toMatchObject({ state: 'completed', imported: 2, failed: 0, rejected: 0 });
      expect(server.hits.get(flakyPath)).toBe(3);
      const items = await settled(pipeline, 2);
      expect(find(items, 'firewall-rules', '26-080').state).toBe('published');
    } finally {
      await server.close();
    }
  });

  it('fails a sync whose artifact server trickles bytes, with the reason, within its deadline', async () => {
    const feed = await buildFeed(join(root, 'slow'), pki, {
      feed: 'slow',
      updates: [
        { kind: 'security', component: 'log-inspection-rules', version: '26-090' },
        { kind: 'security', component: 'log-inspection-rules', version: '26-091', content: 65536 },
      ],
    });
    const slowPath = 'log-inspection-rules/log-inspection-rules-26-091.bin';
    const server = await faultyServer(feed.dir, { [slowPath]: 'trickle' }, ports[1]);
    try {
      const started = Date.now();
      const sync: SyncStatus = await syncAndWait(pipeline, server.url);
      expect(sync).toMatchObject({
        state: 'failed',
        imported: 1,
        failed: 1,
        pending: 0,
        failures: [{ index: 1, code: 'timeout' }],
      });
      expect(sync.failures?.[0]?.reason).toMatch(/FEED_ENTRY_TIMEOUT_MS/);
      expect(Date.now() - started).toBeLessThan(60_000);
      // Tried on every delivery, then given up: no verdict on the update.
      expect(server.hits.get(slowPath)).toBe(3);
      expect((await allUpdates(pipeline)).some((u) => u.version === '26-091')).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('fails a sync whose index server trickles, and leaves no sync running', async () => {
    const feed = await buildFeed(join(root, 'slow-index'), pki, {
      feed: 'slow-index',
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-095' }],
    });
    const server = await faultyServer(feed.dir, { 'index.json': 'trickle' }, ports[2]);
    try {
      const sync = await syncAndWait(pipeline, server.url);
      expect(sync.state).toBe('failed');
      expect(sync.reason).toMatch(/index\.json|timeout|did not/i);
    } finally {
      await server.close();
    }
  });
});

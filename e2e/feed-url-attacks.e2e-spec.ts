import { buildFeed, createTestPki, freePort, Pipeline, type TestPki } from '@sup/testing';
import { createReadStream, mkdtempSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates, syncAndWait } from './helpers';

jest.setTimeout(300_000);

/** Planted in everything the attacks make the service read: no answer may contain it. */
const SECRET = 'root:x:0:0:SECRET-MARKER:/root:/bin/bash';

interface TestServer {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

/**
 * A loopback server: files under `root`, plus `routes` answered as given (redirects, 403s). Every
 * request path is recorded, so a test can tell that a refused URL was never fetched.
 */
async function startServer(
  root: string,
  routes: Record<string, (res: ServerResponse) => void> = {},
): Promise<TestServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.push(path);
    const route = Object.entries(routes).find(([prefix]) => path.startsWith(prefix));
    if (route) return route[1](res);
    const file = normalize(join(root, decodeURIComponent(path)));
    if (!file.startsWith(root + sep)) return void res.writeHead(403).end(SECRET);
    stat(file).then(
      (s) => {
        if (!s.isFile()) return void res.writeHead(404).end(SECRET);
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(SECRET),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('feed URL attacks are refused with their rule, echo nothing and publish nothing', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let root: string;
  let vendor: TestServer;
  let elsewhere: TestServer;
  let closedPort: number;
  const vendorUrl = (path: string) => `http://127.0.0.1:${vendor.port}/${path}`;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-url-'));
    pki = await createTestPki(join(root, 'pki'));
    const served = join(root, 'served');
    await buildFeed(join(served, 'good'), pki, {
      feed: 'url-good',
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-200' }],
    });
    // Signed by nobody: 16 MiB that must not be parsed, and a smaller one with a junk signature.
    await mkdir(join(served, 'big'), { recursive: true });
    await writeFile(join(served, 'big', 'index.json'), Buffer.alloc(16 * 1024 * 1024, '['));
    await writeFile(join(served, 'big', 'index.json.p7s'), SECRET);
    await mkdir(join(served, 'unsigned'), { recursive: true });
    await writeFile(join(served, 'unsigned', 'index.json'), `[${SECRET}`);
    await writeFile(join(served, 'unsigned', 'index.json.p7s'), SECRET);
    // Probes of the oracle: a file that is there, JSON with other keys, no signature.
    await mkdir(join(served, 'other-json'), { recursive: true });
    await writeFile(join(served, 'other-json', 'index.json'), JSON.stringify({ user: SECRET }));

    elsewhere = await startServer(served);
    const redirect = (to: () => string) => (res: ServerResponse) =>
      res.writeHead(302, { location: to() }).end(SECRET);
    vendor = await startServer(served, {
      '/away/': redirect(() => `http://127.0.0.1:${elsewhere.port}/good/index.json`),
      '/to-file/': redirect(() => 'file:///etc/passwd'),
      '/loop/': redirect(() => vendorUrl('loop/index.json')),
      '/forbidden/': (res) => res.writeHead(403, { 'content-type': 'text/plain' }).end(SECRET),
    });
    closedPort = await freePort();
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: {
        JS_MAX_DELIVER: '2',
        JS_BACKOFF_MS: '200',
        ...allowFeeds(
          // Loopback by IP literal: the operator names these addresses, so they may be reached.
          `http://127.0.0.1:${vendor.port}/`,
          `http://127.0.0.1:${closedPort}/`,
          // A host name that resolves to loopback: listed, but its address is still checked.
          `http://localhost:${vendor.port}/`,
          pathToFileURL(join(served, 'other-json')).href,
        ),
      },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await vendor?.close();
    await elsewhere?.close();
  });

  /** POST /v1/feeds/sync; the whole answer, as text, for the no-echo checks. */
  async function requestSync(url: string): Promise<{ status: number; text: string; id?: string }> {
    const res = await pipeline.api<{ id?: string; message?: string }>('POST', '/v1/feeds/sync', {
      url,
    });
    return { status: res.status, text: JSON.stringify(res.body), id: res.body.id };
  }

  it('syncs an allow-listed feed (the attacks below differ from it only in the URL)', async () => {
    const sync = await syncAndWait(pipeline, vendorUrl('good/'));
    expect(sync).toMatchObject({ state: 'completed', imported: 1 });
  });

  it.each([
    ['file:///etc/passwd', 'url-not-allowed'],
    ['file:///etc/', 'url-not-allowed'],
    ['http://[::ffff:127.0.0.1]/feed/', 'url-not-allowed'],
    ['http://2130706433/feed/', 'url-not-allowed'],
    ['https://vendor.example.com.evil.net/feeds/', 'url-not-allowed'],
    ['ftp://127.0.0.1/feed/', 'bad-url'],
    ['http://user:pw@127.0.0.1/feed/', 'bad-url'],
  ])('refuses %s at once with %s', async (url, rule) => {
    const answer = await requestSync(url);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain(rule);
    expect(answer.text).not.toContain('SECRET-MARKER');
  });

  it('refuses an allow-listed URL on another port of the same host', async () => {
    const answer = await requestSync(`http://127.0.0.1:${elsewhere.port}/good/`);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('url-not-allowed');
    expect(elsewhere.hits).toEqual([]);
  });

  it.each([
    ['away/', 'url-not-allowed'],
    ['to-file/', 'scheme-not-allowed'],
    ['loop/', 'too-many-redirects'],
  ])('refuses a redirect from an allowed server (%s) with %s', async (path, rule) => {
    const sync = await syncAndWait(pipeline, vendorUrl(path));
    expect(sync.state).toBe('refused');
    expect(sync.reason).toMatch(new RegExp(`^${rule}: `));
    expect(JSON.stringify(sync)).not.toContain('SECRET-MARKER');
    expect(elsewhere.hits).toEqual([]);
  });

  it('checks the resolved address of a look-alike host at connect time', async () => {
    const before = vendor.hits.length;
    const sync = await syncAndWait(pipeline, `http://localhost:${vendor.port}/good/`);
    expect(sync.state).toBe('refused');
    expect(sync.reason).toMatch(/^address-not-allowed: /);
    expect(vendor.hits.length).toBe(before);
  });

  it('verifies the index signature before parsing, and never reads past the size limit', async () => {
    const big = await syncAndWait(pipeline, vendorUrl('big/'));
    expect(big.state).toBe('failed');
    expect(big.reason).toMatch(/^too-large: .*index\.json/);
    const unsigned = await syncAndWait(pipeline, vendorUrl('unsigned/'));
    expect(unsigned.state).toBe('refused');
    // Not "malformed-index": the bytes were never parsed.
    expect(unsigned.reason).toMatch(/^index-signature-invalid: /);
    expect(JSON.stringify([big, unsigned])).not.toContain('SECRET-MARKER');
  });

  it('answers alike for a missing file or directory, a closed port, a 403 page and other JSON', async () => {
    const probes = [
      vendorUrl('good/security/'), // a directory that exists, without an index
      vendorUrl('no-such-dir/'),
      `http://127.0.0.1:${closedPort}/feed/`,
      vendorUrl('forbidden/'),
      pathToFileURL(join(root, 'served', 'other-json')).href,
    ];
    const reasons = new Set<string | undefined>();
    for (const url of probes) {
      const sync = await syncAndWait(pipeline, url);
      expect(sync.state).toBe('failed');
      reasons.add(sync.reason);
    }
    expect([...reasons]).toEqual([
      'feed-unreadable: index.json and index.json.p7s could not both be read from this URL',
    ]);
  });

  it('published nothing from any attack, and logged nothing it read', async () => {
    const updates = await allUpdates(pipeline);
    expect(updates.map((u) => u.version)).toEqual(['26-200']);
    const log = await readFile(pipeline.logFile('ingest'), 'utf8');
    expect(log).toContain('feed-unreadable');
    expect(log).not.toContain('SECRET-MARKER');
  });
});

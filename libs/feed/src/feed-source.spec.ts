import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from '@sup/testing';
import { FeedError, type FeedErrorCode } from './feed-error';
import { FeedSource } from './feed-source';
import { DEFAULT_INDEX_MAX_BYTES } from './index-parse';

jest.setTimeout(30_000);

const validIndex = {
  schemaVersion: 1,
  feed: 'acme-active-update',
  sequence: 42,
  generatedAt: '2026-03-01T10:00:00Z',
  expiresAt: '2026-04-01T10:00:00Z',
  updates: [
    {
      kind: 'security',
      component: 'firewall-rules',
      version: '26-058',
      artifact: { path: 'security/fw-26-058.bin', size: 70_000, sha256: 'a'.repeat(64) },
      signature: { path: 'security/fw-26-058.bin.p7s', format: 'cms-detached-der' },
    },
  ],
};

const ARTIFACT = randomBytes(70_000);
const SIGNATURE = randomBytes(1500);
const BIG = randomBytes(300_000);

let root: string;
/** Outside every feed directory: symlinks pointing here must be refused. */
let outside: string;

async function writeFeed(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

// --- A static HTTP server over `root`, with hooks for misbehaving responses -----------------------

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const specialRoutes = new Map<string, Handler>();
let server: Server;
let httpBase: string;
const openResponses = new Set<ServerResponse>();

function serveStatic(req: IncomingMessage, res: ServerResponse): void {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  const file = join(root, path);
  if (!file.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  stat(file).then(
    (s) => {
      if (!s.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': s.size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    },
    () => res.writeHead(404).end('not found'),
  );
}

// --- A raw TCP server for responses node:http refuses to produce (lying Content-Length) ------------

let rawServer: NetServer;
let rawBase: string;
let rawResponse: (socket: Socket) => void = (socket) => socket.end();
const rawSockets = new Set<Socket>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sup-feed-'));
  outside = await mkdtemp(join(tmpdir(), 'sup-feed-outside-'));
  await writeFile(join(outside, 'secret.txt'), 'not part of any feed');

  await writeFeed('good', {
    'index.json': JSON.stringify(validIndex, null, 2),
    'index.json.p7s': SIGNATURE,
    'security/fw-26-058.bin': ARTIFACT,
    'security/fw-26-058.bin.p7s': SIGNATURE,
    'big.bin': BIG,
    'with space %2e%2e.bin': Buffer.from('odd name'),
  });
  await mkdir(join(root, 'good', 'a-directory'));
  await symlink(join(outside, 'secret.txt'), join(root, 'good', 'escape.bin'));
  await symlink(outside, join(root, 'good', 'escape-dir'));
  await symlink('big.bin', join(root, 'good', 'inside-link.bin'));

  await writeFeed('bad-json', {
    'index.json': '{"schemaVersion": 1, ',
    'index.json.p7s': SIGNATURE,
  });
  await writeFeed('no-signature', { 'index.json': JSON.stringify(validIndex) });
  await writeFeed('huge-index', {
    'index.json': Buffer.alloc(DEFAULT_INDEX_MAX_BYTES + 1, 0x20),
    'index.json.p7s': SIGNATURE,
  });

  server = createServer((req, res) => {
    openResponses.add(res);
    res.on('close', () => openResponses.delete(res));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const special = specialRoutes.get(path);
    if (special) special(req, res);
    else serveStatic(req, res);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  httpBase = `http://127.0.0.1:${port}/`;

  rawServer = createNetServer((socket) => {
    rawSockets.add(socket);
    socket.on('close', () => rawSockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', () => rawResponse(socket));
  });
  const rawPort = await freePort();
  await new Promise<void>((resolve) => rawServer.listen(rawPort, '127.0.0.1', resolve));
  rawBase = `http://127.0.0.1:${rawPort}/feed/`;
});

afterEach(() => {
  specialRoutes.clear();
});

afterAll(async () => {
  for (const res of openResponses) res.destroy();
  for (const socket of rawSockets) socket.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => rawServer.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function failure(promise: Promise<unknown>): Promise<FeedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FeedError);
    return error as FeedError;
  }
  throw new Error('expected a FeedError, but it succeeded');
}

/** The error of open() or, when open() succeeded, of reading the stream to the end. */
async function downloadFailure(
  feed: FeedSource,
  path: string,
  maxBytes: number,
): Promise<FeedError> {
  return failure(feed.open(path, { maxBytes }).then(readAll));
}

function expectFeedError(error: FeedError, code: FeedErrorCode, url?: string): void {
  expect({ code: error.code, message: error.message }).toEqual({
    code,
    message: expect.any(String),
  });
  if (url !== undefined) {
    expect(error.url).toBe(url);
    expect(error.message).toContain(url);
  }
}

/** Same digest, same bytes: jest's deep equality on big Buffers is very slow. */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

// --- Behaviour shared by file: and http(s): ---------------------------------------------------------

const transports: Array<[string, (feed: string) => string]> = [
  ['file:', (feed) => pathToFileURL(join(root, feed)).href],
  ['http:', (feed) => `${httpBase}${feed}`],
];

describe.each(transports)('FeedSource over %s', (_name, urlOf) => {
  const feedAt = (name: string, opts?: { hardMaxBytes?: number; timeoutMs?: number }): FeedSource =>
    FeedSource.parse(urlOf(name), opts);

  it('normalises the base URL with a trailing slash', () => {
    const feed = feedAt('good');
    expect(feed.baseUrl).toBe(`${urlOf('good')}/`);
    expect(FeedSource.parse(feed.baseUrl).baseUrl).toBe(feed.baseUrl);
  });

  it('reads the index and its signature as bytes', async () => {
    const feed = feedAt('good');
    const { indexBytes, signatureBytes } = await feed.readIndex();
    expect(indexBytes.toString('utf8')).toBe(JSON.stringify(validIndex, null, 2));
    expectBytes(signatureBytes, SIGNATURE);
  });

  it('streams an artifact and reads a signature', async () => {
    const feed = feedAt('good');
    expectBytes(
      await readAll(await feed.open('security/fw-26-058.bin', { maxBytes: 70_000 })),
      ARTIFACT,
    );
    expectBytes(await feed.readSmall('security/fw-26-058.bin.p7s', 64 * 1024), SIGNATURE);
  });

  it('treats entry paths as names, not URL syntax', async () => {
    const feed = feedAt('good');
    expect(feed.resolve('with space %2e%2e.bin')).toBe(
      `${feed.baseUrl}with%20space%20%252e%252e.bin`,
    );
    expect((await feed.readSmall('with space %2e%2e.bin', 100)).toString()).toBe('odd name');
  });

  it('does not parse the index (that happens after its signature verifies)', async () => {
    const feed = feedAt('bad-json');
    const { indexBytes } = await feed.readIndex();
    expect(indexBytes.length).toBeGreaterThan(0);
  });

  it('caps the index at 8 MiB by default, and at a given size', async () => {
    const feed = feedAt('huge-index');
    expectFeedError(await failure(feed.readIndex()), 'too-large', `${feed.baseUrl}index.json`);
    const small = feedAt('good');
    const error = await failure(small.readIndex({ indexMaxBytes: 10 }));
    expectFeedError(error, 'too-large', `${small.baseUrl}index.json`);
    const signature = await failure(small.readIndex({ signatureMaxBytes: 10 }));
    expectFeedError(signature, 'too-large', `${small.baseUrl}index.json.p7s`);
  });

  it('reports a missing signature', async () => {
    const feed = feedAt('no-signature');
    expectFeedError(await failure(feed.readIndex()), 'not-found', `${feed.baseUrl}index.json.p7s`);
  });

  it('reports a missing artifact', async () => {
    const feed = feedAt('good');
    const url = `${feed.baseUrl}security/missing.bin`;
    expectFeedError(await downloadFailure(feed, 'security/missing.bin', 1000), 'not-found', url);
  });

  it('reports a missing feed', async () => {
    const feed = feedAt('no-such-feed');
    expectFeedError(await failure(feed.readIndex()), 'not-found', `${feed.baseUrl}index.json`);
  });

  it('refuses an artifact bigger than declared, up front', async () => {
    const feed = feedAt('good');
    const error = await failure(feed.open('big.bin', { maxBytes: 1000 }));
    expectFeedError(error, 'too-large', `${feed.baseUrl}big.bin`);
    expect(error.message).toContain('1000 bytes');
  });

  it('applies the hard maximum over a larger maxBytes', async () => {
    const feed = feedAt('good', { hardMaxBytes: 100_000 });
    const error = await failure(feed.open('big.bin', { maxBytes: 10_000_000 }));
    expectFeedError(error, 'too-large', `${feed.baseUrl}big.bin`);
    expect(error.message).toContain('hard maximum');
    expectBytes(
      await readAll(await feed.open('security/fw-26-058.bin', { maxBytes: 10_000_000 })),
      ARTIFACT,
    );
  });

  it('accepts exactly maxBytes', async () => {
    const feed = feedAt('good');
    expectBytes(await readAll(await feed.open('big.bin', { maxBytes: BIG.length })), BIG);
  });

  it.each([
    ['../x'],
    ['/etc/passwd'],
    ['a/../../x'],
    ['a/./b'],
    ['a//b'],
    [''],
    ['http://evil/x'],
    ['file:///etc/passwd'],
    ['C:/windows/x'],
    ['a\\..\\..\\x'],
    ['a/b\u0000.bin'],
    ['../good/big.bin'],
  ])('refuses the path escape %j', async (path) => {
    const feed = feedAt('good');
    expect(() => feed.resolve(path)).toThrow(FeedError);
    const error = await failure(feed.open(path, { maxBytes: 1000 }));
    expectFeedError(error, 'path-escape');
    expect(error.message).toContain(feed.baseUrl);
    expect(error.message).toContain(JSON.stringify(path));
  });

  it('reports a directory as not found', async () => {
    const feed = feedAt('good');
    expectFeedError(await downloadFailure(feed, 'a-directory', 1000), 'not-found');
  });
});

// --- file: specifics --------------------------------------------------------------------------------

describe('FeedSource over file: only', () => {
  const feed = (): FeedSource => FeedSource.parse(pathToFileURL(join(root, 'good')).href);

  it('refuses a symlink that points out of the feed directory', async () => {
    const error = await failure(feed().open('escape.bin', { maxBytes: 1000 }));
    expectFeedError(error, 'path-escape', `${feed().baseUrl}escape.bin`);
    expect(error.message).toContain('outside the feed directory');
    const viaDir = await failure(feed().open('escape-dir/secret.txt', { maxBytes: 1000 }));
    expectFeedError(viaDir, 'path-escape', `${feed().baseUrl}escape-dir/secret.txt`);
  });

  it('follows a symlink that stays inside', async () => {
    expectBytes(await readAll(await feed().open('inside-link.bin', { maxBytes: BIG.length })), BIG);
  });

  it('works when the feed directory itself is reached through a symlink', async () => {
    const link = join(outside, 'feed-link');
    await symlink(join(root, 'good'), link);
    const viaLink = FeedSource.parse(pathToFileURL(link).href);
    expectBytes(await viaLink.readSmall('security/fw-26-058.bin', 70_000), ARTIFACT);
    expectFeedError(await failure(viaLink.open('escape.bin', { maxBytes: 1000 })), 'path-escape');
  });

  it('does not hang on a FIFO', async () => {
    const fifo = join(root, 'good', 'fifo.bin');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    expectFeedError(await downloadFailure(feed(), 'fifo.bin', 1000), 'not-found');
  });

  it('stops at maxBytes even when the file grows after the size check', async () => {
    const dir = await writeFeed('growing', { 'grow.bin': Buffer.alloc(1000, 1) });
    const growing = FeedSource.parse(pathToFileURL(dir).href);
    const stream = await growing.open('grow.bin', { maxBytes: 1000 });
    await writeFile(join(dir, 'grow.bin'), Buffer.alloc(200_000, 2));
    const error = await failure(readAll(stream));
    expectFeedError(error, 'too-large', `${growing.baseUrl}grow.bin`);
  });
});

// --- http: specifics --------------------------------------------------------------------------------

describe('FeedSource over http: only', () => {
  const feed = (opts?: { timeoutMs?: number }): FeedSource =>
    FeedSource.parse(`${httpBase}good/`, opts);

  it('errors as soon as a chunked response passes maxBytes', async () => {
    let sent = 0;
    specialRoutes.set('/good/chunked.bin', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no Content-Length: chunked
      const timer = setInterval(() => {
        sent += 16_384;
        res.write(Buffer.alloc(16_384, 7));
        if (sent >= 10 * 1024 * 1024) {
          clearInterval(timer);
          res.end();
        }
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    const error = await downloadFailure(feed(), 'chunked.bin', 100_000);
    expectFeedError(error, 'too-large', `${feed().baseUrl}chunked.bin`);
    // It stopped early rather than reading 10 MB.
    expect(sent).toBeLessThan(5 * 1024 * 1024);
  });

  it('gives up on a small read that trickles, however often bytes arrive', async () => {
    specialRoutes.set('/good/slow.p7s', (_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      // One byte every 50 ms: never idle for the idle timeout, never done in time.
      const timer = setInterval(() => res.write(Buffer.from([1])), 50);
      res.on('close', () => clearInterval(timer));
    });
    const slow = FeedSource.parse(`${httpBase}good/`, {
      timeoutMs: 1_000,
      smallReadTimeoutMs: 300,
    });
    const error = await failure(slow.readSmall('slow.p7s', 10_000));
    expectFeedError(error, 'timeout', `${slow.baseUrl}slow.p7s`);
    expect(error.message).toContain('was not read completely within 300 ms');
  });

  it('refuses a Content-Length over maxBytes before reading the body', async () => {
    specialRoutes.set('/good/declared.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': 5_000_000 });
      res.write(Buffer.alloc(1000));
      // never finishes: the client must not wait for the rest
    });
    const error = await failure(feed().open('declared.bin', { maxBytes: 1000 }));
    expectFeedError(error, 'too-large', `${feed().baseUrl}declared.bin`);
    expect(error.message).toContain('Content-Length 5000000');
  });

  it('never delivers more than maxBytes from a server that under-declares Content-Length', async () => {
    rawResponse = (socket) =>
      socket.end(
        `HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n${'x'.repeat(50_000)}`,
      );
    const source = FeedSource.parse(rawBase);
    const result = await source
      .open('lie.bin', { maxBytes: 1000 })
      .then(readAll)
      .then(
        (bytes) => ({ bytes }),
        (error: unknown) => ({ error }),
      );
    // undici stops at the declared length (or fails the response); never more than maxBytes.
    if ('bytes' in result) expect(result.bytes.length).toBeLessThanOrEqual(100);
    else expect(result.error).toBeInstanceOf(FeedError);
  });

  it('errors on an undeclared, connection-delimited body over maxBytes', async () => {
    rawResponse = (socket) =>
      socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'y'.repeat(50_000)}`);
    const source = FeedSource.parse(rawBase);
    expectFeedError(
      await downloadFailure(source, 'close.bin', 1000),
      'too-large',
      `${rawBase}close.bin`,
    );
  });

  it('maps other statuses to http-error', async () => {
    specialRoutes.set('/good/broken.bin', (_req, res) =>
      res.writeHead(503, 'Service Unavailable').end(),
    );
    const error = await downloadFailure(feed(), 'broken.bin', 1000);
    expectFeedError(error, 'http-error', `${feed().baseUrl}broken.bin`);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/answered HTTP 503$/); // the server's status text is not repeated
  });

  it('maps 404 to not-found with the status', async () => {
    const error = await downloadFailure(feed(), 'nothing-here.bin', 1000);
    expectFeedError(error, 'not-found', `${feed().baseUrl}nothing-here.bin`);
    expect(error.status).toBe(404);
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    const closed = FeedSource.parse(`http://127.0.0.1:${port}/feed`);
    const error = await failure(closed.readIndex());
    expectFeedError(error, 'unreachable', `http://127.0.0.1:${port}/feed/index.json`);
    expect(error.message).toContain('connection refused');
  });

  it('times out on a server that never answers', async () => {
    specialRoutes.set('/good/silent.bin', () => undefined);
    const started = Date.now();
    const error = await downloadFailure(feed({ timeoutMs: 300 }), 'silent.bin', 1000);
    expectFeedError(error, 'timeout', `${feed().baseUrl}silent.bin`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('times out on a body that stalls', async () => {
    specialRoutes.set('/good/stall.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': 10_000 });
      res.write(Buffer.alloc(2000));
    });
    const error = await downloadFailure(feed({ timeoutMs: 300 }), 'stall.bin', 10_000);
    expectFeedError(error, 'timeout', `${feed().baseUrl}stall.bin`);
    expect(error.message).toContain('300 ms');
  });

  it('does not mistake a slow consumer for a stalled server', async () => {
    const stream = await feed({ timeoutMs: 200 }).open('big.bin', { maxBytes: BIG.length });
    const parts: Buffer[] = [];
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      if (parts.length === 1) await new Promise((resolve) => setTimeout(resolve, 600));
    }
    expectBytes(Buffer.concat(parts), BIG);
  });

  it('reports a connection cut mid-body', async () => {
    specialRoutes.set('/good/cut.bin', (_req, res) => {
      res.writeHead(200, { 'content-length': 10_000 });
      res.write(Buffer.alloc(2000), () => setTimeout(() => res.destroy(), 20));
    });
    const error = await downloadFailure(feed(), 'cut.bin', 10_000);
    expectFeedError(error, 'unreachable', `${feed().baseUrl}cut.bin`);
  });
});

// --- URL parsing ----------------------------------------------------------------------------------

describe('FeedSource.parse', () => {
  it.each([
    ['ftp://vendor.example/feed/', /unsupported scheme "ftp:"/],
    ['not a url', /not an absolute URL/],
    ['', /empty/],
    ['http://user:secret@vendor.example/feed/', /credentials/],
    ['https://vendor.example/feed/?token=1', /query string/],
    ['file://remote-host/share/feed/', /./],
  ])('refuses %j', (url, message) => {
    let error: unknown;
    try {
      FeedSource.parse(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FeedError);
    expectFeedError(error as FeedError, 'bad-url');
    expect((error as FeedError).message).toMatch(message);
    expect((error as FeedError).message).not.toContain('secret');
  });

  it('accepts file:, http: and https:', () => {
    expect(FeedSource.parse('https://vendor.example/feeds/acme').baseUrl).toBe(
      'https://vendor.example/feeds/acme/',
    );
    expect(FeedSource.parse('http://127.0.0.1:8080').baseUrl).toBe('http://127.0.0.1:8080/');
    expect(FeedSource.parse('file:///srv/feed').baseUrl).toBe('file:///srv/feed/');
  });

  it('resolves entries under the base', () => {
    const feed = FeedSource.parse('https://vendor.example/feeds/acme/');
    expect(feed.resolve('agent/linux/agent-20.0.1.tar.gz')).toBe(
      'https://vendor.example/feeds/acme/agent/linux/agent-20.0.1.tar.gz',
    );
  });

  it('rejects bad limits', async () => {
    const feed = FeedSource.parse('https://vendor.example/feeds/acme/');
    await expect(feed.open('x.bin', { maxBytes: -1 })).rejects.toBeInstanceOf(RangeError);
    expect(() => FeedSource.parse('https://vendor.example/', { timeoutMs: 0 })).toThrow(RangeError);
  });
});

import { createServer, type Server } from 'node:http';
import { FeedError, type FeedErrorCode } from './feed-error';
import { FeedSource } from './feed-source';
import { MAX_REDIRECTS } from './http-source';
import { FeedUrlPolicy, parseUrlPrefix } from './url-policy';

/** Two loopback servers: `allowed` is on the allow-list by IP literal, `other` is not. */
let allowed: Server;
let other: Server;
let allowedBase: string;
let otherBase: string;
let allowedPort: number;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

const SECRET = 'root:x:0:0:root:/root:/bin/bash';

beforeAll(async () => {
  allowed = createServer((req, res) => {
    const path = req.url ?? '/';
    const redirect = (location: string) => res.writeHead(302, { location }).end(SECRET);
    if (path === '/feed/file') return void res.end('payload');
    if (path === '/feed/inside') return redirect('/feed/file');
    if (path === '/feed/away') return redirect(`${otherBase}feed/file`);
    if (path === '/feed/to-file') return redirect('file:///etc/passwd');
    if (path === '/feed/to-localhost') return redirect(`http://localhost:${allowedPort}/feed/file`);
    if (path === '/feed/loop') return redirect('/feed/loop');
    const hops = /^\/feed\/chain\/(\d+)$/.exec(path);
    if (hops) {
      const n = Number(hops[1]);
      return redirect(n === 0 ? '/feed/file' : `/feed/chain/${n - 1}`);
    }
    if (path === '/feed/forbidden') return void res.writeHead(403, SECRET).end(SECRET);
    res.writeHead(404).end(SECRET);
  });
  other = createServer((_req, res) => res.end(SECRET));
  allowedPort = await listen(allowed);
  allowedBase = `http://127.0.0.1:${allowedPort}/feed/`;
  otherBase = `http://127.0.0.1:${await listen(other)}/`;
});

afterAll(async () => {
  for (const server of [allowed, other]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const policy = () =>
  new FeedUrlPolicy({
    allowed: [parseUrlPrefix(allowedBase), parseUrlPrefix(`http://localhost:${allowedPort}/`)],
    allowFile: false,
  });

async function read(base: string, path: string): Promise<string> {
  const stream = await FeedSource.parse(base, { policy: policy() }).open(path, { maxBytes: 1000 });
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString();
}

async function refused(base: string, path: string): Promise<FeedError> {
  const error: unknown = await read(base, path).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof FeedError)) throw new Error(`expected a FeedError, got ${String(error)}`);
  expect(error.message).not.toContain('root:');
  return error;
}

describe('openHttp redirects and addresses', () => {
  it('follows redirects inside the allowed prefixes, up to the limit', async () => {
    expect(await read(allowedBase, 'inside')).toBe('payload');
    expect(await read(allowedBase, `chain/${MAX_REDIRECTS - 1}`)).toBe('payload');
  });

  it.each<[string, FeedErrorCode]>([
    ['away', 'url-not-allowed'],
    ['to-file', 'scheme-not-allowed'],
    ['loop', 'too-many-redirects'],
    [`chain/${MAX_REDIRECTS}`, 'too-many-redirects'],
    ['to-localhost', 'address-not-allowed'],
    ['forbidden', 'http-error'],
  ])('refuses %s with %s, quoting nothing the server sent', async (path, code) => {
    const error = await refused(allowedBase, path);
    expect(error.code).toBe(code);
    expect(error.url).toBe(`${allowedBase}${path}`);
  });

  it('checks the resolved address of a listed host name when connecting', async () => {
    const error = await refused(`http://localhost:${allowedPort}/feed/`, 'file');
    expect(error.code).toBe('address-not-allowed');
  });

  it('refuses a base URL outside the policy before any request', () => {
    expect(() => FeedSource.parse(otherBase, { policy: policy() })).toThrow(
      expect.objectContaining({ code: 'url-not-allowed' }) as Error,
    );
  });
});

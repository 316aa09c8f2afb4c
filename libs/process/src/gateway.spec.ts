import type { ServiceName } from '@sup/contracts';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from './gateway';
import { lingerAfterAnswer } from './http-linger';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let handler: Handler;
let upstream: Server;
let gateway: Server;
let gatewayPort: number;

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

beforeAll(async () => {
  upstream = createServer((req, res) => handler(req, res));
  const ports = new Map<ServiceName, number>([['ingest', await listen(upstream)]]);
  gateway = await startGateway(0, '127.0.0.1', ports);
  gatewayPort = (gateway.address() as AddressInfo).port;
});
afterAll(async () => {
  upstream.closeAllConnections();
  gateway.closeAllConnections();
  await Promise.all([upstream, gateway].map((s) => new Promise((r) => s.close(r))));
});

/** Resolves when the upstream request ends: `complete` tells whether its whole body arrived. */
const upstreamEnd = (req: IncomingMessage): Promise<{ complete: boolean; bytes: number }> =>
  new Promise((resolve) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    // The socket's close: a request whose answer is already out emits no 'close' of its own.
    req.socket.on('close', () => resolve({ complete: req.complete, bytes }));
  });

describe('gateway', () => {
  it('routes by path prefix to the owning service, and answers 404 for other paths', async () => {
    handler = (req, res) => res.end(`ingest got ${req.method} ${req.url}`);
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/imports`, { method: 'POST' });
    expect(await res.text()).toBe('ingest got POST /v1/imports');
    const other = await fetch(`http://127.0.0.1:${gatewayPort}/nope`);
    expect(other.status).toBe(404);
  });

  it('aborts the upstream request when the client aborts mid-upload', async () => {
    let ended!: Promise<{ complete: boolean; bytes: number }>;
    const arrived = new Promise<void>((resolve) => {
      handler = (req) => {
        ended = upstreamEnd(req);
        req.once('data', () => resolve());
      };
    });
    const client = request({
      port: gatewayPort,
      method: 'POST',
      path: '/v1/imports',
      headers: { 'content-length': String(10 * 1024 * 1024) },
    });
    client.on('error', () => undefined);
    client.write(Buffer.alloc(64 * 1024));
    await arrived;
    client.destroy();
    const end = await ended;
    expect(end.complete).toBe(false);
    expect(end.bytes).toBeLessThan(10 * 1024 * 1024);
  });

  // A hang guard, not a speed check: the upstream's 2 s linger is part of the behaviour under test,
  // and fetch takes a moment to start sending a large Blob.
  it('passes an early refusal on and stops forwarding the rest of the upload', async () => {
    let ended!: Promise<{ complete: boolean; bytes: number }>;
    handler = (req, res) => {
      ended = upstreamEnd(req);
      req.once('data', () => {
        req.pause();
        res.writeHead(413, { 'content-type': 'application/json' });
        // As ingest does: the unread rest is dropped for a moment, so no reset eats the answer.
        lingerAfterAnswer(req, res);
        res.end('{"statusCode":413}');
      });
    };
    // Far more than the sockets on the way buffer, so a complete upload would mean it was forwarded.
    const size = 64 * 1024 * 1024;
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/imports`, {
      method: 'POST',
      body: new Blob([Buffer.alloc(size)]),
    });
    const text = await res.text();
    expect([res.status, text]).toEqual([413, '{"statusCode":413}']);
    const end = await ended;
    expect(end.complete).toBe(false);
    expect(end.bytes).toBeLessThan(size);
  }, 15_000);

  it('cuts the client connection when the service dies mid-answer (no hung client)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setImmediate(() => res.socket?.destroy());
    };
    const res = await fetch(`http://127.0.0.1:${gatewayPort}/v1/imports`);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('answers 502 naming the service when it is down', async () => {
    const down = await startGateway(0, '127.0.0.1', new Map([['ingest', 1]]));
    try {
      const port = (down.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/v1/imports`, { method: 'POST' });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { message: string }).message).toContain('ingest unavailable');
    } finally {
      await new Promise((r) => down.close(r));
    }
  });
});

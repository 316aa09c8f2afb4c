import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverWebhook, WebhookDeliveryError } from './webhook-delivery';
import { verifyWebhook } from './webhook-signature';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP receiver on a free local port; each path answers as the test says. */
async function receiver(answer: (path: string) => { status: number; delayMs?: number }) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const { status, delayMs } = answer(req.url ?? '');
      const timer = setTimeout(() => res.writeHead(status).end(), delayMs ?? 0);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SECRET_A = 'secret-of-sink-a-0123456789';
const SECRET_B = 'secret-of-sink-b-0123456789';
const message = {
  id: 'evt-1',
  type: 'alerts.v1.raised',
  body: JSON.stringify({ id: 'evt-1', data: { alertId: 'alert_x_y' } }),
};

describe('deliverWebhook (against a real local HTTP server)', () => {
  let rx: Awaited<ReturnType<typeof receiver>>;
  afterEach(() => rx?.close());

  it('posts the body to every sink, each signed with its own secret, with event id and type', async () => {
    rx = await receiver(() => ({ status: 204 }));
    await deliverWebhook(
      [
        { url: `${rx.base}/a`, secret: SECRET_A },
        { url: `${rx.base}/b`, secret: SECRET_B },
      ],
      message,
      { timeoutMs: 5_000 },
    );
    expect(rx.received.map((r) => r.path).sort()).toEqual(['/a', '/b']);
    for (const r of rx.received) {
      expect(r.body).toBe(message.body);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-sup-event-id']).toBe('evt-1');
      expect(r.headers['x-sup-event-type']).toBe('alerts.v1.raised');
      const verdict = (secret: string) =>
        verifyWebhook({
          secret,
          body: r.body,
          timestamp: r.headers['x-sup-timestamp'] as string,
          signature: r.headers['x-sup-signature'] as string,
          nowS: Number(r.headers['x-sup-timestamp']),
        });
      const [own, other] = r.path === '/a' ? [SECRET_A, SECRET_B] : [SECRET_B, SECRET_A];
      expect(verdict(own)).toEqual({ ok: true });
      expect(verdict(other)).toEqual({ ok: false, reason: 'signature mismatch' });
    }
  });

  it.each<[string, { status: number; delayMs?: number }, RegExp]>([
    ['a 500', { status: 500 }, /\/bad: HTTP 500/],
    ['a redirect (not followed)', { status: 302 }, /\/bad: HTTP 302/],
    ['no answer within the timeout', { status: 200, delayMs: 10_000 }, /no answer within 300 ms/],
  ])('fails naming the sink on %s, still delivering to the others', async (_, bad, reason) => {
    rx = await receiver((path) => (path === '/bad' ? bad : { status: 200 }));
    const sinks = [
      { url: `${rx.base}/bad`, secret: SECRET_A },
      { url: `${rx.base}/good`, secret: SECRET_B },
    ];
    const delivery = deliverWebhook(sinks, message, { timeoutMs: 300 });
    await expect(delivery).rejects.toThrow(WebhookDeliveryError);
    await expect(delivery).rejects.toThrow(reason);
    const error = (await delivery.catch((e: unknown) => e)) as WebhookDeliveryError;
    expect(error.failures).toHaveLength(1);
    expect(error.message).not.toContain(SECRET_A);
    expect(rx.received.map((r) => r.path).sort()).toEqual(['/bad', '/good']);
  });

  it('fails on a sink that refuses connections', async () => {
    rx = await receiver(() => ({ status: 200 }));
    const url = rx.base;
    await rx.close();
    await expect(
      deliverWebhook([{ url: `${url}/gone`, secret: SECRET_A }], message, { timeoutMs: 1_000 }),
    ).rejects.toThrow(/\/gone: /);
  });
});

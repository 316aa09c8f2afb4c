import { jetstreamManager } from '@nats-io/jetstream';
import {
  AlertDetailSchema,
  AlertListSchema,
  DeadLetterSchema,
  EVENT_TYPE_PREFIX,
  SUBJECTS,
  type Alert,
} from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline } from '@sup/testing';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, settled, syncAndWait } from './helpers';

jest.setTimeout(240_000);

/** The CloudEvent types a sink sees in `X-Sup-Event-Type`. */
const RAISED = `${EVENT_TYPE_PREFIX}${SUBJECTS.alertRaised}`;
const ACKED = `${EVENT_TYPE_PREFIX}${SUBJECTS.alertAcknowledged}`;
const SECRET = 'e2e-webhook-secret-0123456789';
const DEAD_SECRET = 'e2e-dead-sink-secret-0123456789';

/**
 * What docs/architecture.md tells an integrator to do, written here independently of the service:
 * HMAC-SHA256 over "<timestamp>.<body>" with the shared secret, compared in constant time, and a
 * timestamp no more than 5 minutes from the receiver's clock.
 */
function verifyWebhook(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowS: number;
}): { ok: true } | { ok: false; reason: string } {
  const { secret, body, timestamp, signature, nowS } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'unsigned' };
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  const expected = Buffer.from(`sha256=${mac}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad signature' };
  }
  if (Math.abs(nowS - Number(timestamp)) > 300) return { ok: false, reason: 'stale' };
  return { ok: true };
}

interface Delivery {
  path: string;
  eventId: string;
  type: string;
  verified: boolean;
  reason?: string;
  body: { data: Record<string, unknown> };
}

/**
 * The webhook receiver an integrator would write: verifies the HMAC and the timestamp, answers
 * 500 to the first delivery of every event on `/flaky` (so the pipeline must retry), and always
 * 500 on `/dead` (so the last attempt is dead-lettered).
 */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const verdict = verifyWebhook({
        secret: path === '/dead' ? DEAD_SECRET : SECRET,
        body,
        timestamp: req.headers['x-sup-timestamp'] as string | undefined,
        signature: req.headers['x-sup-signature'] as string | undefined,
        nowS: Math.floor(Date.now() / 1000),
      });
      const eventId = String(req.headers['x-sup-event-id']);
      const seenBefore = deliveries.some((d) => d.path === path && d.eventId === eventId);
      deliveries.push({
        path,
        eventId,
        type: String(req.headers['x-sup-event-type']),
        verified: verdict.ok,
        ...(verdict.ok ? {} : { reason: verdict.reason }),
        body: JSON.parse(body) as Delivery['body'],
      });
      const ok = verdict.ok && path === '/flaky' && seenBefore;
      res.writeHead(ok ? 204 : verdict.ok ? 500 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, deliveries, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('alerts: one per rule + subject, ack, webhooks with retries and dead letters', () => {
  let pipeline: Pipeline;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let feedUrl: string;
  let rejected: string[];

  beforeAll(async () => {
    receiver = await startReceiver();
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-alerts-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-058' },
        {
          kind: 'security',
          component: 'anti-malware-pattern',
          version: '19.231.00',
          tamper: 'forged',
        },
        {
          kind: 'security',
          component: 'log-inspection-rules',
          version: '26-059',
          tamper: 'corrupt',
        },
      ],
    });
    feedUrl = feed.url;
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: {
        ...allowFeeds(pathToFileURL(root).href),
        ALERT_WEBHOOKS: JSON.stringify([
          { url: `${receiver.base}/flaky`, secret: SECRET },
          { url: `${receiver.base}/dead`, secret: DEAD_SECRET },
        ]),
        // Quick redeliveries, few attempts: the test watches retries and the dead letter happen.
        JS_BACKOFF_MS: '200,400',
        JS_MAX_DELIVER: '3',
      },
    });
    await syncAndWait(pipeline, feedUrl);
    const items = await settled(pipeline, 3);
    rejected = items.filter((u) => u.state === 'rejected').map((u) => u.id);
    expect(rejected).toHaveLength(2);
  });
  afterAll(async () => {
    await pipeline?.stop();
    await receiver?.close();
  });

  const listAlerts = async (query = ''): Promise<Alert[]> => {
    const res = await pipeline.api('GET', `/v1/alerts?limit=100${query}`, undefined, {
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    return AlertListSchema.parse(res.body).items;
  };

  it('raises one open alert per rejected update, counted once', async () => {
    const alerts = await eventually(async () => {
      const items = await listAlerts();
      return items.length >= 2 ? items : undefined;
    }, '2 alerts');
    expect(alerts.map((a) => a.updateId).sort()).toEqual([...rejected].sort());
    for (const a of alerts) {
      expect(a).toMatchObject({
        rule: 'update-rejected',
        state: 'open',
        severity: 'critical',
        occurrences: 1,
        id: `alert_update-rejected_${a.updateId}`,
      });
      expect(a.firstSeen).toBe(a.lastSeen);
    }
    expect(await listAlerts('&severity=warning')).toEqual([]);
    expect(await listAlerts('&rule=update-rejected&state=open')).toHaveLength(2);
  });

  it('does not duplicate an alert when the feed is synced again', async () => {
    await syncAndWait(pipeline, feedUrl);
    const alerts = await listAlerts();
    expect(alerts).toHaveLength(2);
    expect(alerts.every((a) => a.occurrences === 1)).toBe(true);
  });

  it('lets an operator acknowledge (recording who and when), not a viewer', async () => {
    const [first] = await listAlerts();
    const path = `/v1/alerts/${first.id}/ack`;
    const denied = await pipeline.api<{ message: string }>('POST', path, undefined, {
      as: 'viewer',
    });
    expect(denied.status).toBe(403);
    const acked = await pipeline.api('POST', path, undefined, { as: 'operator' });
    expect(acked.status).toBe(200);
    const detail = AlertDetailSchema.parse(acked.body);
    expect(detail).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'test-operator' });
    expect(detail.history.map((h) => h.event)).toEqual(['raised', 'acknowledged']);
    // Idempotent: the first acknowledgement stands.
    const again = await pipeline.api('POST', path, undefined, { as: 'admin' });
    expect(AlertDetailSchema.parse(again.body).acknowledgedBy).toBe('test-operator');
    const unknown = await pipeline.api(
      'POST',
      '/v1/alerts/alert_update-rejected_nope/ack',
      undefined,
      {
        as: 'operator',
      },
    );
    expect(unknown.status).toBe(404);
    const bad = await pipeline.api('POST', '/v1/alerts/not%20an%20id/ack', undefined, {
      as: 'operator',
    });
    expect(bad.status).toBe(400);
    await eventually(async () => {
      const listed = await listAlerts('&state=acknowledged');
      return listed.length === 1 && listed[0].id === first.id ? listed : undefined;
    }, 'the listing shows the acknowledgement');
  });

  it('posts every raised and acknowledged alert to the webhook, signed, retrying after a 500', async () => {
    const summary = () =>
      JSON.stringify(
        receiver.deliveries.map((d) => [d.path, d.type, d.eventId, d.verified, d.reason]),
      );
    const flaky = await eventually(() => {
      const d = receiver.deliveries.filter((x) => x.path === '/flaky');
      const raised = new Set(d.filter((x) => x.type === RAISED).map((x) => x.eventId));
      const acked = d.filter((x) => x.type === ACKED);
      return Promise.resolve(raised.size === 2 && acked.length >= 2 ? d : undefined);
    }, 'webhook deliveries').catch((error: Error) => {
      throw new Error(`${error.message}; received ${summary()}`);
    });
    expect(flaky.every((d) => d.verified)).toBe(true);
    // Each event was refused once (500) and delivered again: at least two attempts per event id.
    const attempts = new Map<string, number>();
    for (const d of flaky) attempts.set(d.eventId, (attempts.get(d.eventId) ?? 0) + 1);
    for (const n of attempts.values()) expect(n).toBeGreaterThanOrEqual(2);
    const raisedIds = flaky
      .filter((d) => d.type === RAISED)
      .map((d) => d.body.data.alertId as string);
    expect(new Set(raisedIds).size).toBe(2);
  });

  it('dead-letters an event after the last failed attempt, naming the sink but not its secret', async () => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const letters = await eventually(async () => {
        const info = await jsm.streams.info('DLQ');
        const found: string[] = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
          const msg = await jsm.streams.getMessage('DLQ', { seq }).catch(() => undefined);
          if (msg?.subject.startsWith('dlq.v1.alerting.alerts.v1.raised')) found.push(msg.string());
        }
        return found.length >= 2 ? found : undefined;
      }, 'dead letters of the raised events');
      for (const text of letters) {
        const letter = DeadLetterSchema.parse(JSON.parse(text));
        expect(letter).toMatchObject({
          service: 'alerting',
          consumer: 'alerting-webhook-alerts_v1_raised',
          deliveries: 3,
        });
        expect(letter.error).toContain(`${receiver.base}/dead: HTTP 500`);
        expect(text).not.toContain(DEAD_SECRET);
        expect(text).not.toContain(SECRET);
      }
      const dead = receiver.deliveries.filter((d) => d.path === '/dead' && d.type === RAISED);
      expect(dead.every((d) => d.verified)).toBe(true);
    } finally {
      await nc.close();
    }
  });
});

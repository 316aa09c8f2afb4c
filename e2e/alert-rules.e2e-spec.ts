import { jetstreamManager } from '@nats-io/jetstream';
import { AlertListSchema, SUBJECTS, type Alert, type FleetReport } from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline } from '@sup/testing';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait } from './helpers';

jest.setTimeout(240_000);

const agentBuild = { kind: 'software', component: 'agent', platform: 'linux-x86_64' } as const;
/** Short enough that the test sees a relay go silent and come back. */
const RELAY_UNAVAILABLE_MS = 4_000;
/** The scheduler's slot: each one is a new scheduled sync of FEED_URL. */
const SYNC_INTERVAL_S = 2;

const report = (id: string, role: 'agent' | 'relay', version: string): FleetReport => ({
  id,
  role,
  platform: 'linux-x86_64',
  version,
  relayGroup: 'site-a',
  securityUpdates: {},
  seenAt: new Date().toISOString(),
});

/**
 * The fleet and catalog rules through the running services: a feed import publishes agent
 * builds, fleet reports posted to distribution reach alerting's durable `rules`, and alerting's
 * evaluation raises, keeps (one occurrence however often it evaluates) and resolves alerts, which
 * an operator acknowledges in between.
 */
describe('alert rules: raise -> ack -> auto-resolve from fleet reports and feed imports', () => {
  let pipeline: Pipeline;
  let build200: string;
  /** FEED_URL's index signature as signed, while the file holds a broken one. */
  let goodSignature: Buffer;
  let signaturePath: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-alert-rules-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feedDir = join(root, 'feed');
    await buildFeed(feedDir, pki, {
      updates: [
        { ...agentBuild, version: '9.6.200' },
        // A newer line nobody runs: the reference product stays quiet about it.
        { ...agentBuild, version: '10.0.5' },
      ],
    });
    // FEED_URL, synced on a schedule: an empty feed whose index signature is broken until the
    // last test mends it.
    const scheduled = await buildFeed(join(root, 'scheduled'), pki, {
      feed: 'scheduled',
      updates: [],
    });
    signaturePath = join(scheduled.dir, 'index.json.p7s');
    goodSignature = readFileSync(signaturePath);
    const broken = Buffer.from(goodSignature);
    broken[broken.length - 10] ^= 0xff;
    writeFileSync(signaturePath, broken);
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: {
        ...allowFeeds(pathToFileURL(root).href),
        FEED_URL: scheduled.url,
        FEED_SYNC_INTERVAL_S: String(SYNC_INTERVAL_S),
        FEED_SYNC_SWEEP_MS: '500',
        RULES_EVAL_INTERVAL_MS: '500',
        RULES_EVAL_DEBOUNCE_MS: '100',
        RULES_RELAY_UNAVAILABLE_MS: String(RELAY_UNAVAILABLE_MS),
      },
    });
    const sync = await syncAndWait(pipeline, pathToFileURL(feedDir).href + '/');
    expect(sync).toMatchObject({ state: 'completed', failed: 0 });
    build200 = find(await settled(pipeline, 2), 'agent', '9.6.200').id;
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  const post = async (reports: FleetReport[]) => {
    const res = await pipeline.api('POST', '/v1/fleet/reports', { reports }, { as: 'operator' });
    expect(res.status).toBe(202);
  };

  const alertsOf = async (rule: string): Promise<Alert[]> => {
    const res = await pipeline.api('GET', `/v1/alerts?rule=${rule}&limit=100`, undefined, {
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    return AlertListSchema.parse(res.body).items;
  };

  const waitFor = (rule: string, state: Alert['state'], what: string) =>
    eventually(async () => {
      const found = (await alertsOf(rule)).filter((a) => a.state === state);
      return found.length > 0 ? found : undefined;
    }, what);

  /** The alert events announced for one alert, from the ALERTS stream. */
  const announced = async (alertId: string): Promise<string[]> => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('ALERTS');
      const subjects: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage('ALERTS', { seq }).catch(() => undefined);
        if (msg?.subject.includes(alertId)) subjects.push(msg.subject);
      }
      return subjects;
    } finally {
      await nc.close();
    }
  };

  it('software-update-available: agents on 9.6.100 and a published 9.6.200 raise one alert; 10.0.5 raises none', async () => {
    await post([report('agent-1', 'agent', '9.6.100'), report('agent-2', 'agent', '9.6.100')]);
    const [alert] = await waitFor('software-update-available', 'open', 'the 9.6 line alert');
    expect(alert).toMatchObject({
      severity: 'info',
      updateId: build200,
      occurrences: 1,
      details: {
        role: 'agent',
        platform: 'linux-x86_64',
        line: '9.6',
        target: '9.6.200',
        count: 2,
      },
    });
    // Many evaluations later (every 500 ms) it is still the one alert, seen once.
    await new Promise((r) => setTimeout(r, 2_500));
    const again = await alertsOf('software-update-available');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: alert.id, occurrences: 1, state: 'open' });
  });

  it('an operator acknowledges it; agents reporting 9.6.200 resolve it and alerts.v1.resolved is announced', async () => {
    const [alert] = await alertsOf('software-update-available');
    const ack = await pipeline.api('POST', `/v1/alerts/${alert.id}/ack`, undefined, {
      as: 'operator',
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.any(String) });

    await post([report('agent-1', 'agent', '9.6.200'), report('agent-2', 'agent', '9.6.200')]);
    const [resolved] = await waitFor('software-update-available', 'resolved', 'the resolution');
    expect(resolved).toMatchObject({ id: alert.id, resolveReason: expect.any(String) });
    const subjects = await eventually(async () => {
      const s = await announced(alert.id);
      return s.some((x) => x.startsWith(`${SUBJECTS.alertResolved}.`)) ? s : undefined;
    }, 'alerts.v1.resolved on ALERTS');
    expect(subjects.map((s) => s.split('.').slice(0, 3).join('.'))).toEqual([
      SUBJECTS.alertRaised,
      SUBJECTS.alertAcknowledged,
      SUBJECTS.alertResolved,
    ]);
  });

  it('relay-unavailable: a relay that stops reporting raises; reporting again resolves it', async () => {
    await post([report('relay-1', 'relay', '9.6.200')]);
    const [away] = await waitFor('relay-unavailable', 'open', 'relay-1 unavailable');
    expect(away).toMatchObject({ subject: 'relay-1', severity: 'critical', occurrences: 1 });
    await post([report('relay-1', 'relay', '9.6.200')]);
    const [back] = await waitFor('relay-unavailable', 'resolved', 'relay-1 back');
    expect(back).toMatchObject({ id: away.id, resolveReason: 'the relay reports again' });
  });

  it('security-updates-stale: scheduled syncs that keep failing raise one alert; the next that completes resolves it', async () => {
    const [failing] = await waitFor('security-updates-stale', 'open', 'the failing feed sync');
    expect(failing).toMatchObject({
      severity: 'warning',
      subject: expect.stringMatching(/^feed-sync-[0-9a-f]{12}$/),
      details: { url: expect.stringContaining('/scheduled/'), lastState: 'refused' },
    });
    // More failing slots, each announced on SYNCS: still one alert, seen once (one streak).
    const finished = async () => {
      const nc = await pipeline.connectNats();
      try {
        return (await (await jetstreamManager(nc)).streams.info('SYNCS')).state.messages;
      } finally {
        await nc.close();
      }
    };
    const before = await finished();
    await eventually(
      async () => ((await finished()) >= before + 3 ? true : undefined),
      'three more scheduled syncs announced',
    );
    const [still] = await alertsOf('security-updates-stale');
    expect(still).toMatchObject({ id: failing.id, occurrences: 1, state: 'open' });

    writeFileSync(signaturePath, goodSignature);
    const [mended] = await waitFor('security-updates-stale', 'resolved', 'a completed sync');
    expect(mended.id).toBe(failing.id);
  });
});

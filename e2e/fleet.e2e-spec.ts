import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Computer, type FleetReport, type FleetSummary } from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline, publishFleetReport } from '@sup/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates, syncAndWait } from './helpers';

jest.setTimeout(240_000);

const report = (over: Partial<FleetReport> = {}): FleetReport => ({
  id: 'pc-1',
  role: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  relayGroup: 'group-a',
  securityUpdates: { 'firewall-rules': '26-090' },
  seenAt: '2026-11-29T10:00:00Z',
  ...over,
});

interface FleetPage {
  items: Computer[];
  total: number;
}

/**
 * The fleet through the running services: reports posted with the agent token and published over
 * NATS land in the read model, latest seenAt first; listing filters and the summary against the
 * published catalog; the agent token reaches nothing else; bad batches store nothing.
 */

/** Publishes a report as an agent would over NATS (the event id doubles as the message id). */
const reportPublisher = (nc: NatsConnection) => (r: FleetReport, id: string) =>
  publishFleetReport(nc, r, id);

describe('fleet reports and the fleet read model', () => {
  let pipeline: Pipeline;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-fleet-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-090' }],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(root).href),
    });
    // One published rule update, the newest the catalog knows for firewall-rules.
    await syncAndWait(pipeline, feed.url);
    await eventually(async () => {
      const updates = await allUpdates(pipeline);
      return updates.some((u) => u.state === 'published') ? true : undefined;
    }, 'the rule update published');
  });
  afterAll(() => pipeline?.stop());

  const list = async (query = ''): Promise<FleetPage> => {
    const res = await pipeline.api<FleetPage>('GET', `/v1/fleet${query}`, undefined, {
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  const computer = async (id: string): Promise<Computer | undefined> =>
    (await list('?limit=500')).items.find((c) => c.id === id);
  const fleetMessages = async (): Promise<number> => {
    const nc = await pipeline.connectNats();
    try {
      return (await (await jetstreamManager(nc)).streams.info('FLEET')).state.last_seq;
    } finally {
      await nc.close();
    }
  };

  it('takes a batch over REST with the agent token and writes the read model', async () => {
    const reports = [
      report(),
      report({
        id: 'pc-2',
        version: '20.0.1.12345',
        securityUpdates: { 'firewall-rules': '26-080' },
      }),
      report({ id: 'pc-3', platform: 'windows-x86_64', version: '9.6.100', relayGroup: 'group-b' }),
      report({ id: 'relay-1', role: 'relay', version: '20.0.2-1', securityUpdates: {} }),
    ];
    // The agent token posts agents' reports; an operator may post any (the relay's too).
    const agents = reports.slice(0, 3);
    const res = await pipeline.api(
      'POST',
      '/v1/fleet/reports',
      { reports: agents },
      { as: 'agent' },
    );
    expect(res).toEqual({ status: 202, body: { accepted: 3, duplicates: 0 } });
    const again = await pipeline.api('POST', '/v1/fleet/reports', { reports }, { as: 'operator' });
    expect(again).toEqual({ status: 202, body: { accepted: 1, duplicates: 3 } });

    const page = await eventually(async () => {
      const p = await list();
      return p.total === 4 ? p : undefined;
    }, 'four computers');
    expect(page.items.find((c) => c.id === 'pc-1')).toMatchObject({
      role: 'agent',
      platform: 'linux-x86_64',
      version: '20.0.1-12345',
      line: '20.0',
      relayGroup: 'group-a',
      securityUpdates: { 'firewall-rules': '26-090' },
      seenAt: '2026-11-29T10:00:00.000Z',
    });
  });

  it('takes reports published over NATS, and an older seenAt never replaces a newer one', async () => {
    const nc = await pipeline.connectNats();
    try {
      const publish = reportPublisher(nc);
      await publish(
        report({ id: 'pc-4', seenAt: '2026-11-29T12:00:00Z', version: '20.0.1-2' }),
        'n1',
      );
      await eventually(
        async () => ((await computer('pc-4'))?.version === '20.0.1-2' ? true : undefined),
        'pc-4 from NATS',
      );
      // Older, sent later (over NATS and over REST): ignored; a newer one after it still wins.
      await publish(
        report({ id: 'pc-4', seenAt: '2026-11-29T11:00:00Z', version: '20.0.1-1' }),
        'n2',
      );
      const older = await pipeline.api(
        'POST',
        '/v1/fleet/reports',
        { reports: [report({ id: 'pc-4', seenAt: '2026-11-29T11:30:00Z', version: '20.0.1-0' })] },
        { as: 'agent' },
      );
      expect(older.status).toBe(202);
      await publish(report({ id: 'pc-5', seenAt: '2026-11-29T11:00:00Z' }), 'n3');
      // pc-5 was published after the older pc-4 reports: once it is there, they were applied.
      await eventually(async () => ((await computer('pc-5')) ? true : undefined), 'pc-5');
      expect(await computer('pc-4')).toMatchObject({
        version: '20.0.1-2',
        seenAt: '2026-11-29T12:00:00.000Z',
      });
      await publish(
        report({ id: 'pc-4', seenAt: '2026-11-29T13:00:00Z', version: '20.0.1-3' }),
        'n4',
      );
      await eventually(
        async () => ((await computer('pc-4'))?.version === '20.0.1-3' ? true : undefined),
        'the newer pc-4 report',
      );
      // The stream keeps one message per computer.
      const info = await (await jetstreamManager(nc)).streams.info('FLEET');
      expect(info.state.messages).toBe(6);
    } finally {
      await nc.close();
    }
  });

  it('filters the listing and pages it', async () => {
    expect((await list('?role=relay')).items.map((c) => c.id)).toEqual(['relay-1']);
    expect((await list('?platform=windows-x86_64')).items.map((c) => c.id)).toEqual(['pc-3']);
    expect((await list('?group=group-b')).items.map((c) => c.id)).toEqual(['pc-3']);
    expect((await list('?version=20.0.1.12345')).items.map((c) => c.id)).toEqual(['pc-2']);
    const first = await list('?limit=2');
    const second = await list('?limit=2&offset=2');
    expect(first.total).toBe(6);
    expect([...first.items, ...second.items].map((c) => c.id)).toEqual([
      'pc-1',
      'pc-2',
      'pc-3',
      'pc-4',
    ]);
    for (const q of ['?limit=0', '?limit=1e3', '?offset=-1', '?role=server', '?colour=red']) {
      const res = await pipeline.api('GET', `/v1/fleet${q}`, undefined, { as: 'viewer' });
      expect([q, res.status]).toEqual([q, 400]);
    }
  });

  it('summarises by platform and line, and security updates against the catalog', async () => {
    const res = await pipeline.api<FleetSummary>('GET', '/v1/fleet/summary', undefined, {
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(6);
    expect(res.body.lines).toEqual([
      { role: 'agent', platform: 'linux-x86_64', line: '20.0', count: 4 },
      { role: 'agent', platform: 'windows-x86_64', line: '9.6', count: 1 },
      { role: 'relay', platform: 'linux-x86_64', line: '20.0', count: 1 },
    ]);
    expect(res.body.securityUpdates).toEqual([
      {
        component: 'firewall-rules',
        latest: '26-090',
        upToDate: 4,
        outOfDate: 1,
        versions: [
          { version: '26-090', count: 4 },
          { version: '26-080', count: 1 },
        ],
      },
    ]);
  });

  /**
   * The stream keeps the last received report per computer, so a newer report not yet read when
   * an older one arrives is replaced on the stream (architecture.md, The fleet): the newest
   * reports are read first here, then every older one is sent, shuffled, over both ways in.
   */
  it('never lets an older report replace a newer one, re-reports out of order over REST and NATS', async () => {
    const base = Date.parse('2026-11-29T14:00:00Z');
    const at = (c: number, k: number) =>
      report({
        id: `ooo-${c}`,
        relayGroup: 'ooo',
        version: `20.0.1-${k}`,
        seenAt: new Date(base + k * 60_000).toISOString(),
      });
    const computers = Array.from({ length: 100 }, (_, c) => c);
    const newest = computers.map((c) => at(c, 5));
    const first = await pipeline.api(
      'POST',
      '/v1/fleet/reports',
      { reports: newest },
      { as: 'agent' },
    );
    expect(first.status).toBe(202);
    const atNewest = (p: FleetPage) =>
      p.total === 100 && p.items.every((c) => c.version === '20.0.1-5');
    await eventually(async () => {
      const p = await list('?group=ooo&limit=500');
      return atNewest(p) ? p : undefined;
    }, 'every computer at its newest report');

    // 500 older reports in a fixed shuffle (a linear congruential sequence), half each way.
    let seed = 7;
    const older = computers
      .flatMap((c) => [0, 1, 2, 3, 4].map((k) => at(c, k)))
      .map((r) => ({ r, key: (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) }))
      .sort((x, y) => x.key - y.key)
      .map((x) => x.r);
    const viaRest = older.filter((_, i) => i % 2 === 0);
    const nc = await pipeline.connectNats();
    try {
      const publish = reportPublisher(nc);
      const posts = [0, 50, 100, 150, 200].map((from) =>
        pipeline.api(
          'POST',
          '/v1/fleet/reports',
          { reports: viaRest.slice(from, from + 50) },
          {
            as: 'agent',
          },
        ),
      );
      const publishes = older.filter((_, i) => i % 2 === 1).map((r, i) => publish(r, `ooo-${i}`));
      for (const res of await Promise.all(posts)) expect(res.status).toBe(202);
      await Promise.all(publishes);
      // Stored after all of them: once it is in the read model, they were all applied.
      await publish(report({ id: 'ooo-marker', relayGroup: 'ooo-marker' }), 'ooo-marker');
    } finally {
      await nc.close();
    }
    await eventually(async () => ((await computer('ooo-marker')) ? true : undefined), 'marker');
    const page = await list('?group=ooo&limit=500');
    expect(
      page.items.filter((c) => c.version !== '20.0.1-5').map((c) => [c.id, c.version]),
    ).toEqual([]);
    expect(atNewest(page)).toBe(true);
  });

  it('writes a re-report that changes nothing but seenAt only after FLEET_SEEN_RESOLUTION_MS (60 s)', async () => {
    const hb = (seenAt: string, version = '20.0.1-1') =>
      report({ id: 'hb-1', relayGroup: 'hb', seenAt, version });
    let markers = 0;
    // Posts a report, then a marker computer after it: once the marker is listed, the report's
    // batch was applied (the durable's batches run one after another).
    const apply = async (r: FleetReport) => {
      const marker = report({ id: `hb-marker-${++markers}`, relayGroup: 'hb-marker' });
      for (const reports of [[r], [marker]]) {
        const res = await pipeline.api('POST', '/v1/fleet/reports', { reports }, { as: 'agent' });
        expect(res.status).toBe(202);
      }
      await eventually(async () => ((await computer(marker.id)) ? true : undefined), marker.id);
      return computer('hb-1');
    };
    expect(await apply(hb('2026-11-29T15:00:00Z'))).toMatchObject({
      seenAt: '2026-11-29T15:00:00.000Z',
    });
    // Seen 30 s later, nothing else changed: the listing keeps the seenAt it has.
    expect(await apply(hb('2026-11-29T15:00:30Z'))).toMatchObject({
      seenAt: '2026-11-29T15:00:00.000Z',
    });
    // Any other change is written at once, seenAt with it.
    expect(await apply(hb('2026-11-29T15:00:40Z', '20.0.1-2'))).toMatchObject({
      version: '20.0.1-2',
      seenAt: '2026-11-29T15:00:40.000Z',
    });
    // Unchanged, but a resolution after the last write: written.
    expect(await apply(hb('2026-11-29T15:01:40Z', '20.0.1-2'))).toMatchObject({
      seenAt: '2026-11-29T15:01:40.000Z',
    });
  });

  it('binds a relay token to its own report and an agent token to agent reports (403, nothing stored)', async () => {
    // The harness names the relay role's token `test-relay`.
    const own = report({ id: 'test-relay', role: 'relay', relayGroup: 'relay-binding' });
    const res = await pipeline.api(
      'POST',
      '/v1/fleet/reports',
      { reports: [own] },
      { as: 'relay' },
    );
    expect(res).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    await eventually(async () => ((await computer('test-relay')) ? true : undefined), 'the relay');

    const before = await fleetMessages();
    const refused: [string, 'relay' | 'agent', FleetReport[], string][] = [
      ['another relay', 'relay', [report({ id: 'relay-x', role: 'relay' })], 'relay-mismatch'],
      ['an agent under its name', 'relay', [report({ id: 'test-relay' })], 'relay-mismatch'],
      [
        'its own and another relay',
        'relay',
        [{ ...own, seenAt: '2026-11-29T15:00:00Z' }, report({ id: 'relay-x', role: 'relay' })],
        'relay-mismatch',
      ],
      [
        'a relay, as an agent',
        'agent',
        [report(), report({ id: 'relay-y', role: 'relay' })],
        'agent-reports-only',
      ],
    ];
    for (const [what, as, reports, code] of refused) {
      const r = await pipeline.api<{ code?: string }>(
        'POST',
        '/v1/fleet/reports',
        { reports },
        {
          as,
        },
      );
      expect([what, r.status, r.body.code]).toEqual([what, 403, code]);
    }
    expect(await fleetMessages()).toBe(before);
    expect(await computer('relay-x')).toBeUndefined();
  });

  /**
   * Ingestion rate through the running services (one distribution replica), printed for the
   * record; the figure depends on the host, so only completeness is asserted (`npm run bench`
   * measures it properly). New computers, then the same computers reporting again (the case that
   * scanned the collection on FerretDB before the KV claim). Run last but one: the later tests
   * only count messages relative to their start.
   */
  it('ingests 4,000 new and 4,000 known computers over REST and over NATS, every report', async () => {
    const N = 4_000; // whole batches of 1,000, posted 4 at a time (npm run bench sends 12,000)
    const batch = (prefix: string, group: string, from: number) =>
      Array.from({ length: 1_000 }, (_, i) =>
        report({
          id: `${prefix}-${from + i}`,
          relayGroup: group,
          seenAt: new Date().toISOString(),
        }),
      );
    const landed = (group: string) =>
      eventually(
        async () => ((await list(`?group=${group}&limit=1`)).total === N ? true : undefined),
        `${N} reports of ${group}`,
        180_000,
        // Not more often: a filtered count scans the collection on FerretDB and competes with the writes.
        1_000,
      );
    const rate = (started: number) => Math.round((N * 1000) / (Date.now() - started));

    const viaRest = async (prefix: string, group: string): Promise<string> => {
      const started = Date.now();
      for (let i = 0; i < N; i += 4_000) {
        const posts = [0, 1, 2, 3].map((k) =>
          pipeline.api(
            'POST',
            '/v1/fleet/reports',
            { reports: batch(prefix, group, i + k * 1_000) },
            { as: 'agent' },
          ),
        );
        for (const res of await Promise.all(posts)) expect(res.status).toBe(202);
      }
      const accepted = rate(started);
      await landed(group);
      return `${rate(started)}/s (${accepted}/s accepted)`;
    };
    const viaNats = async (prefix: string, group: string): Promise<string> => {
      const nc = await pipeline.connectNats();
      try {
        const started = Date.now();
        // 250 in flight: a loaded host answers a thousand at once too slowly for the publish timeout.
        const reports = Array.from({ length: N / 1_000 }, (_, k) =>
          batch(prefix, group, k * 1_000),
        ).flat();
        for (let i = 0; i < N; i += 250) {
          await Promise.all(
            reports.slice(i, i + 250).map((r) => {
              const id = `bench-${r.id}-${group}`;
              return publishFleetReport(nc, r, id, {
                source: '/agents/bench',
                receivedAt: r.seenAt,
              });
            }),
          );
        }
        await landed(group);
        return `${rate(started)}/s`;
      } finally {
        await nc.close();
      }
    };

    const figures = [
      `new over REST ${await viaRest('bench-rest', 'bench-rest')}`,
      `new over NATS ${await viaNats('bench-nats', 'bench-nats')}`,
      // The same computers again, newer: the group moves, so the count says when all were replaced.
      `known over REST ${await viaRest('bench-rest', 'bench-rest-again')}`,
      `known over NATS ${await viaNats('bench-nats', 'bench-nats-again')}`,
    ];
    console.log(`fleet ingestion into the read model: ${figures.join(', ')}`);
  }, 600_000);

  it('refuses the agent token every other route (403)', async () => {
    const routes: [string, string][] = [
      ['GET', '/v1/fleet'],
      ['GET', '/v1/fleet/summary'],
      ['GET', '/v1/updates'],
      ['GET', '/v1/alerts'],
      ['GET', '/v1/openapi.json'],
      ['GET', '/v1/audit'],
      ['POST', '/v1/feeds/sync'],
    ];
    for (const [method, path] of routes) {
      const res = await pipeline.api(method, path, method === 'POST' ? {} : undefined, {
        as: 'agent',
      });
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
    const viewer = await pipeline.api(
      'POST',
      '/v1/fleet/reports',
      { reports: [report()] },
      { as: 'viewer' },
    );
    expect(viewer.status).toBe(403);
  });

  it('refuses bad batches with 400 naming the problem, and stores nothing of them', async () => {
    const before = await fleetMessages();
    const bad: [string, unknown][] = [
      ['no reports', { reports: [] }],
      ['not a list', { reports: report() }],
      ['too many', { reports: Array.from({ length: 1001 }, (_, i) => report({ id: `x-${i}` })) }],
      ['unknown role', { reports: [report({ role: 'server' as FleetReport['role'] })] }],
      ['id not a subject token', { reports: [report({ id: 'a.b' })] }],
      ['id too long', { reports: [report({ id: 'x'.repeat(129) })] }],
      ['bad seenAt', { reports: [report({ seenAt: 'yesterday' })] }],
      ['long version', { reports: [report({ version: '1'.repeat(65) })] }],
      ['unknown field', { reports: [{ ...report(), extra: 1 }] }],
      [
        'one bad among good',
        {
          reports: [
            report({ id: 'ok-1', relayGroup: 'bad-batch' }),
            report({ platform: 'Linux!' }),
          ],
        },
      ],
    ];
    for (const [what, body] of bad) {
      const res = await pipeline.api<{ message: string; details: string[] }>(
        'POST',
        '/v1/fleet/reports',
        body,
        { as: 'agent' },
      );
      expect([what, res.status]).toEqual([what, 400]);
      expect([what, res.body.message]).toEqual([what, 'invalid fleet reports']);
      expect(res.body.details.length).toBeGreaterThan(0);
    }
    expect(await fleetMessages()).toBe(before);
    expect((await list('?group=bad-batch')).total).toBe(0);
  });
});

import { jetstreamManager } from '@nats-io/jetstream';
import {
  type AgentAssignment,
  type FleetReport,
  type Rollout,
  type RolloutChanged,
  type VersionControlEntry,
} from '@sup/contracts';
import { planWaves } from '@sup/domain';
import { buildFeed, createTestPki, eventually, Pipeline } from '@sup/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(300_000);

const LINUX = 'linux-x86_64';
const OLD = '20.0.1-100';
const TARGET = '20.1.0-200';
const G1 = Array.from({ length: 20 }, (_, i) => `g1-pc-${String(i).padStart(2, '0')}`);
const G2 = Array.from({ length: 6 }, (_, i) => `g2-pc-${i}`);

let clock = Date.parse('2026-11-29T10:00:00Z');
/** Each report later than the last, so the fleet read model takes it. */
const seenAt = () => new Date((clock += 1_000)).toISOString();

const agent = (id: string, group: string, over: Partial<FleetReport> = {}): FleetReport => ({
  id,
  role: 'agent',
  platform: LINUX,
  version: OLD,
  relayGroup: group,
  securityUpdates: {},
  seenAt: seenAt(),
  ...over,
});
const EMPTY_ROOT = createHash('sha256').update('').digest('hex');
const relay = (id: string, group: string, version: string): FleetReport => ({
  id,
  role: 'relay',
  platform: LINUX,
  version,
  relayGroup: group,
  securityUpdates: {},
  seenAt: seenAt(),
  relay: {
    url: `http://${id}.example:8090/v1`,
    holds: [],
    merkleRoot: EMPTY_ROOT,
    cacheBytes: 0,
    cacheMaxBytes: 1_000_000,
  },
});

/**
 * Rollouts through the running services: agents and relays report over REST, relays' results
 * arrive as `updates.v1.relayed`, and the evaluation tick moves the rollout. Version control,
 * waves gated on relays, success and error thresholds, pause/resume/cancel, relays first, the
 * refusals (each changing nothing) and one `rollouts.v1.changed` per revision.
 */
describe('rollouts and agent version control', () => {
  let pipeline: Pipeline;
  let updates: UpdateItem[];
  const idOf = (component: string, version: string, platform = LINUX) =>
    find(
      updates.filter((u) => !u.platform || u.platform === platform),
      component,
      version,
    ).id;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-rollouts-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'software', component: 'agent', platform: LINUX, version: OLD, content: 2048 },
        { kind: 'software', component: 'agent', platform: LINUX, version: TARGET, content: 2048 },
        {
          kind: 'software',
          component: 'agent',
          platform: 'windows-x86_64',
          version: TARGET,
          content: 2048,
        },
        { kind: 'software', component: 'relay', platform: LINUX, version: TARGET, content: 2048 },
        { kind: 'security', component: 'firewall-rules', version: '26-090' },
      ],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: { ...allowFeeds(pathToFileURL(root).href), ROLLOUT_TICK_MS: '300' },
    });
    await syncAndWait(pipeline, feed.url);
    updates = await settled(pipeline, 5);
    expect(updates.every((u) => u.state === 'published')).toBe(true);
    await report([
      relay('test-relay', 'g1', TARGET),
      relay('relay-b', 'g2', OLD),
      ...G1.map((id) => agent(id, 'g1')),
      ...G2.map((id) => agent(id, 'g2')),
    ]);
    await eventually(async () => {
      const res = await pipeline.api<{ total: number }>('GET', '/v1/fleet?limit=1', undefined, {
        as: 'viewer',
      });
      return res.body.total === 2 + G1.length + G2.length ? true : undefined;
    }, 'the fleet read model');
  });
  afterAll(() => pipeline?.stop());

  async function report(reports: FleetReport[]) {
    const res = await pipeline.api('POST', '/v1/fleet/reports', { reports }, { as: 'operator' });
    expect(res.status).toBe(202);
  }

  /** The relay's result, posted with its own token (the harness names it `test-relay`). */
  async function relayed(updateId: string, relayId: string, sha256: string) {
    const res = await pipeline.api(
      'POST',
      `/v1/relays/${relayId}/results`,
      { results: [{ updateId, state: 'relayed', sha256 }] },
      { as: 'relay' },
    );
    expect(res.status).toBe(202);
  }

  const get = async (id: string): Promise<Rollout> => {
    const res = await pipeline.api<Rollout>('GET', `/v1/rollouts/${id}`, undefined, {
      as: 'viewer',
    });
    expect(res.status).toBe(200);
    return res.body;
  };
  const until = (id: string, what: string, ok: (r: Rollout) => boolean) =>
    eventually(async () => {
      const r = await get(id);
      return ok(r) ? r : undefined;
    }, `rollout ${id}: ${what}`);
  const create = (body: Record<string, unknown>) =>
    pipeline.api<Rollout & { code?: string; message: string; details?: string[] }>(
      'POST',
      '/v1/rollouts',
      body,
      { as: 'operator' },
    );
  const assignment = async (agentId: string) => {
    const res = await pipeline.api<AgentAssignment>(
      'GET',
      `/v1/agents/${agentId}/assignment`,
      undefined,
      { as: 'agent' },
    );
    expect(res.status).toBe(200);
    return res.body;
  };
  const changes = async (rolloutId: string): Promise<RolloutChanged[]> => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const out: RolloutChanged[] = [];
      const info = await jsm.streams.info('ROLLOUTS');
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && seq > 0; seq++) {
        const msg = await jsm.streams.getMessage('ROLLOUTS', { seq }).catch(() => undefined);
        const data = msg?.json<{ data: RolloutChanged }>().data;
        if (data?.rolloutId === rolloutId) out.push(data);
      }
      return out;
    } finally {
      await nc.close();
    }
  };

  it('resolves agent version control per platform and refuses a pin that is not an agent build of it', async () => {
    const put = (body: unknown, as: 'operator' | 'viewer' = 'operator') =>
      pipeline.api<VersionControlEntry & { code?: string }>(
        'PUT',
        `/v1/version-control/${LINUX}`,
        body,
        { as },
      );
    expect((await put({ policy: 'latest' }, 'viewer')).status).toBe(403);
    const latest = await put({ policy: 'latest' });
    expect(latest.status).toBe(200);
    expect(latest.body.resolved).toMatchObject({
      updateId: idOf('agent', TARGET),
      version: TARGET,
    });
    const lag = await put({ policy: 'lag', lag: 1 });
    expect(lag.body.resolved).toMatchObject({ version: OLD });
    expect((await put({ policy: 'lag', lag: 2 })).body).toMatchObject({
      unresolved: 'not-enough-lines',
    });
    const windows = await put({
      policy: 'pinned',
      updateId: idOf('agent', TARGET, 'windows-x86_64'),
    });
    expect(windows.status).toBe(409);
    expect(windows.body.code).toBe('pinned-not-available');
    expect((await put({ policy: 'pinned' })).status).toBe(400);
    // Version control gives an agent that runs OLD the lag-1 build: nothing newer, nothing offered.
    expect((await assignment(G2[0])).software).toBeUndefined();
    await put({ policy: 'pinned', updateId: idOf('agent', TARGET) });
    const list = await pipeline.api<{ items: VersionControlEntry[] }>(
      'GET',
      '/v1/version-control',
      undefined,
      { as: 'viewer' },
    );
    expect(list.body.items).toEqual([
      expect.objectContaining({ platform: LINUX, policy: 'pinned' }),
    ]);
    const a = await assignment(G2[0]);
    expect(a.software).toMatchObject({ version: TARGET });
    expect(a.software?.rolloutId).toBeUndefined();
    expect(a.fallback).toBe('http://127.0.0.1:8080/v1');
    expect(a.security).toEqual([
      expect.objectContaining({ component: 'firewall-rules', version: '26-090' }),
    ]);
    // Back to the lag policy, so the rollouts below are what moves agents.
    await put({ policy: 'lag', lag: 1 });
  });

  it('refuses bad rollouts with a clear 4xx and creates nothing', async () => {
    const target = idOf('agent', TARGET);
    const base = {
      updateId: target,
      target: { platform: LINUX, group: 'g1' },
      waves: [50, 100],
      successThreshold: 50,
      errorThreshold: 50,
    };
    const windowsBuild = idOf('agent', TARGET, 'windows-x86_64');
    const cases: [Record<string, unknown>, number, string | undefined][] = [
      [{ ...base, target: { platform: LINUX, group: 'nowhere' } }, 404, 'unknown-group'],
      [{ ...base, updateId: 'upd_000000000000000000000000' }, 409, 'update-not-published'],
      [{ ...base, updateId: idOf('firewall-rules', '26-090') }, 409, 'not-an-agent-build'],
      [{ ...base, updateId: windowsBuild }, 409, 'platform-mismatch'],
      [{ ...base, target: { platform: LINUX, group: 'g2' } }, 409, 'relay-older-than-target'],
      [{ ...base, waves: [50, 40] }, 400, undefined],
      [{ ...base, waves: [50] }, 400, undefined],
      [{ ...base, successThreshold: 0 }, 400, undefined],
      [{ ...base, waveSize: 5 }, 400, undefined],
    ];
    for (const [body, status, code] of cases) {
      const res = await create(body);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
        JSON.stringify(body),
        status,
        code,
      ]);
    }
    const older = await create(cases[4][0]);
    expect(older.body.details).toEqual(['relay-b']);
    const listed = await pipeline.api<{ items: Rollout[] }>('GET', '/v1/rollouts', undefined, {
      as: 'viewer',
    });
    expect(listed.body.items).toEqual([]);
    expect(await changes('rol_000000000000000000000000')).toEqual([]);
  });

  let first: Rollout;

  it('waits for the relays, starts waves as agents report the target, pauses, resumes and halts on errors', async () => {
    const updateId = idOf('agent', TARGET);
    const res = await create({
      updateId,
      target: { platform: LINUX, group: 'g1' },
      waves: [10, 50, 100],
      successThreshold: 50,
      errorThreshold: 40,
      relayPolicy: 'refuse',
    });
    expect(res.status).toBe(201);
    first = res.body;
    expect(first).toMatchObject({ state: 'waiting-for-relays', agents: 20, groups: ['g1'] });
    expect(first.waves.map((w) => [w.kind, w.size])).toEqual([
      ['agents', 2],
      ['agents', 8],
      ['agents', 10],
    ]);
    const waves = planWaves(first.id, G1, { percents: [10, 50, 100] });
    await until(first.id, 'waiting for relay-a', (r) => r.waitingForRelays.join() === 'test-relay');
    // Nobody is offered the build before their wave starts: not even version control moves them.
    expect((await assignment(waves[0][0])).software).toBeUndefined();

    // Another rollout for the same agents is refused while this one is active.
    const clash = await create({
      updateId,
      target: { platform: LINUX, agentIds: [waves[2][0]] },
      waveSize: 1,
      successThreshold: 100,
      errorThreshold: 100,
    });
    expect([clash.status, clash.body.code, clash.body.details]).toEqual([
      409,
      'conflicting-rollout',
      [first.id],
    ]);

    const { body: detail } = await pipeline.api<{ sha256: string }>(
      'GET',
      `/v1/updates/${updateId}`,
    );
    await relayed(updateId, 'test-relay', detail.sha256);
    await until(first.id, 'wave 0 started', (r) => r.state === 'running' && !!r.waves[0].startedAt);
    const started = await assignment(waves[0][0]);
    expect(started.software).toMatchObject({ updateId, rolloutId: first.id });
    expect(started.relays).toEqual(['http://test-relay.example:8090/v1']);
    expect((await assignment(waves[1][0])).software).toBeUndefined();

    await report(waves[0].slice(0, 1).map((id) => agent(id, 'g1', { version: '20.1.0.200' })));
    await until(first.id, 'wave 1 started', (r) => r.wave === 1 && !!r.waves[1].startedAt);

    const paused = await pipeline.api<Rollout>(
      'POST',
      `/v1/rollouts/${first.id}/pause`,
      undefined,
      { as: 'operator' },
    );
    expect(paused.body.state).toBe('paused');
    await report(waves[1].map((id) => agent(id, 'g1', { version: TARGET })));
    // Paused: the counts wait, the wave does not move.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await get(first.id)).toMatchObject({ state: 'paused', wave: 1 });
    const resumed = await pipeline.api<Rollout>(
      'POST',
      `/v1/rollouts/${first.id}/resume`,
      undefined,
      { as: 'operator' },
    );
    expect(resumed.body.state).toBe('running');
    await until(first.id, 'wave 2 started', (r) => r.wave === 2 && !!r.waves[2].startedAt);
    expect(await get(first.id)).toMatchObject({
      waves: [
        expect.anything(),
        expect.objectContaining({ succeeded: 8, failed: 0 }),
        expect.anything(),
      ],
    });

    const at = new Date().toISOString();
    await report(
      waves[2]
        .slice(0, 4)
        .map((id) =>
          agent(id, 'g1', { install: { updateId, state: 'failed', reason: 'disk full', at } }),
        ),
    );
    const halted = await until(first.id, 'halted', (r) => r.state === 'halted');
    expect(halted.waves[2]).toMatchObject({ failed: 4 });
    expect(halted.history.at(-1)).toMatchObject({
      change: 'halted',
      reason: expect.stringMatching(/4 of 10/),
    });
    // Halted rollouts offer nothing more; resuming one is refused.
    expect((await assignment(waves[2][5])).software).toBeUndefined();
    const refused = await pipeline.api<{ code: string }>(
      'POST',
      `/v1/rollouts/${first.id}/resume`,
      undefined,
      { as: 'operator' },
    );
    expect([refused.status, refused.body.code]).toEqual([409, 'invalid-transition']);
    expect(
      (await pipeline.api('POST', `/v1/rollouts/${first.id}/pause`, undefined, { as: 'viewer' }))
        .status,
    ).toBe(403);

    // Every revision announced once, in order, as rollouts.v1.changed.<id>-<revision>.
    const events = await eventually(async () => {
      const seen = await changes(first.id);
      return seen.length === halted.revision ? seen : undefined;
    }, 'every change announced');
    expect(events.map((e) => e.revision)).toEqual(halted.history.map((h) => h.revision));
    expect(events.map((e) => e.change)).toEqual(halted.history.map((h) => h.change));
    expect(events.at(-1)).toMatchObject({ state: 'halted', wave: 2 });
  });

  it('upgrades older relays in a first wave, then waits for them to relay the build; cancel ends it', async () => {
    const updateId = idOf('agent', TARGET);
    const res = await create({
      updateId,
      target: { platform: LINUX, group: 'g2' },
      waveSize: 3,
      successThreshold: 100,
      errorThreshold: 50,
      relayPolicy: 'upgrade-relays-first',
    });
    expect(res.status).toBe(201);
    const id = res.body.id;
    expect(res.body.waves.map((w) => [w.kind, w.size])).toEqual([
      ['relays', 1],
      ['agents', 3],
      ['agents', 3],
    ]);
    await until(id, 'relay wave running', (r) => r.state === 'running' && r.wave === 0);
    // Agents already at the target count as soon as their wave starts; they are not enough here.
    await report([relay('relay-b', 'g2', '20.1.0.200')]);
    await until(
      id,
      'waiting for relay-b to relay',
      (r) =>
        r.wave === 1 && r.state === 'waiting-for-relays' && r.waitingForRelays.join() === 'relay-b',
    );
    const cancelled = await pipeline.api<Rollout>('POST', `/v1/rollouts/${id}/cancel`, undefined, {
      as: 'operator',
    });
    expect(cancelled.body.state).toBe('cancelled');
    const again = await pipeline.api<Rollout>('POST', `/v1/rollouts/${id}/cancel`, undefined, {
      as: 'operator',
    });
    expect([again.status, again.body.revision]).toEqual([200, cancelled.body.revision]);
    // Its agents are free again: a new rollout for them is accepted.
    const next = await create({
      updateId,
      target: { platform: LINUX, group: 'g2' },
      waves: [100],
      successThreshold: 100,
      errorThreshold: 100,
    });
    expect(next.status).toBe(201);
    const list = await pipeline.api<{ items: Rollout[] }>('GET', '/v1/rollouts', undefined, {
      as: 'viewer',
    });
    expect(list.body.items.map((r) => r.id)).toEqual([next.body.id, id, first.id]);
  });
});

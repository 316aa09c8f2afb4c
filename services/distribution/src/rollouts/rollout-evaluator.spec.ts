import { SUBJECTS, type FleetReport } from '@sup/contracts';
import { createRollout, type RolloutRecord } from '@sup/domain';
import type { OutgoingEvent } from '@sup/jetstream';
import type { Outbox } from '@sup/service-kit';
import { MemoryVersionedStore } from '@sup/testing';
import type { Logger } from 'pino';
import type { RelayLookup } from './relay-ports';
import { RolloutAnnouncer } from './rollout-announcer';
import { RolloutEvaluator } from './rollout-evaluator';
import { outcomesOf } from './rollout-reports.handler';
import {
  ACTIVE_KEY,
  rolloutKey,
  type ActiveIndex,
  type ActiveRollout,
  type RolloutIndexStore,
  type RolloutStore,
} from './rollout-stores';
import type { OutcomeWrite, RolloutsRepository } from './rollouts.repository';
import { conflicts } from './rollouts.service';

const ID = 'rol_000000000000000000000001';
const UPDATE = 'upd_000000000000000000000001';
const AT = '2026-11-29T10:00:00.000Z';

/** The repository's documents in memory, keyed by `_id` as in MongoDB. */
class MemoryRepository {
  readonly waves = new Map<string, string[]>();
  readonly outcomes = new Map<string, 'succeeded' | 'failed'>();
  readonly relayed = new Set<string>();
  readonly versions = new Map<string, string>();

  waveMembers(rolloutId: string, wave: number) {
    return Promise.resolve(this.waves.get(`${rolloutId}:${wave}`) ?? []);
  }
  writeOutcomes(writes: readonly OutcomeWrite[]) {
    for (const w of writes) {
      const id = `${w.rolloutId}:${w.agentId}`;
      if (!this.outcomes.has(id) || w.state === 'succeeded') this.outcomes.set(id, w.state);
    }
    return Promise.resolve();
  }
  countOutcomes(rolloutId: string, ids: readonly string[]) {
    const states = ids.map((id) => this.outcomes.get(`${rolloutId}:${id}`));
    return Promise.resolve({
      succeeded: states.filter((s) => s === 'succeeded').length,
      failed: states.filter((s) => s === 'failed').length,
    });
  }
  notRelayed(updateId: string, relayIds: readonly string[]) {
    return Promise.resolve(relayIds.filter((r) => !this.relayed.has(`${updateId}:${r}`)));
  }
  computers(ids: readonly string[]) {
    return Promise.resolve(
      ids.map((id) => (this.versions.has(id) ? { version: this.versions.get(id)! } : undefined)),
    );
  }
}

class MemoryOutbox {
  readonly published: OutgoingEvent[] = [];
  failNext = false;
  announce(events: readonly OutgoingEvent[]) {
    if (this.failNext) {
      this.failNext = false;
      return Promise.resolve(
        events.map(() => ({ state: 'failed', error: new Error('nats down') })),
      );
    }
    const seen = new Set(this.published.map((e) => e.id));
    for (const e of events) if (!seen.has(e.id)) this.published.push(e);
    return Promise.resolve(events.map(() => ({ state: 'published', duplicate: false })));
  }
}

const relays: RelayLookup = {
  relaysOfGroup: (group) => Promise.resolve(group === 'g1' ? [{ relayId: 'relay-a' }] : []),
  groupExists: () => Promise.resolve(true),
};
const logger = { info: () => undefined, warn: () => undefined } as unknown as Logger;

function setup() {
  const store = new MemoryVersionedStore<RolloutRecord>();
  const index = new MemoryVersionedStore<ActiveIndex>();
  const repo = new MemoryRepository();
  const outbox = new MemoryOutbox();
  const announcer = new RolloutAnnouncer(
    store.asStore<RolloutStore>(),
    index.asStore<RolloutIndexStore>(),
    outbox as unknown as Outbox,
  );
  const replica = () =>
    new RolloutEvaluator(
      store.asStore<RolloutStore>(),
      index.asStore<RolloutIndexStore>(),
      relays,
      { tickMs: 1_000, controlPlaneUrl: 'http://cp/v1', relayStaleMs: 60_000 },
      logger,
      repo as unknown as RolloutsRepository,
      announcer,
    );
  return { store, index, repo, outbox, replica };
}

async function seed(s: ReturnType<typeof setup>) {
  const record = createRollout(
    {
      id: ID,
      updateId: UPDATE,
      version: '20.1.0.200',
      target: { platform: 'linux-x86_64', group: 'g1' },
      groups: ['g1'],
      successThreshold: 50,
      errorThreshold: 50,
      relayPolicy: 'refuse',
      waves: [
        { kind: 'agents', size: 2 },
        { kind: 'agents', size: 2 },
      ],
      agents: 4,
    },
    'alice',
    AT,
  );
  s.repo.waves.set(`${ID}:0`, ['a1', 'a2']);
  s.repo.waves.set(`${ID}:1`, ['a3', 'a4']);
  await s.index.create(ACTIVE_KEY, { rollouts: [active()] });
  await s.store.create(rolloutKey(ID), record);
}

const active = (over: Partial<ActiveRollout> = {}): ActiveRollout => ({
  id: ID,
  platform: 'linux-x86_64',
  updateId: UPDATE,
  version: '20.1.0.200',
  groups: ['g1'],
  createdAt: AT,
  ...over,
});

describe('RolloutEvaluator', () => {
  it('two replicas ticking at once store each change once and announce each revision once', async () => {
    const s = setup();
    await seed(s);
    const [one, two] = [s.replica(), s.replica()];
    const both = () => Promise.all([one.tick(new Date(AT)), two.tick(new Date(AT))]);
    await both();
    expect((await s.store.get(rolloutKey(ID)))?.value.waitingForRelays).toEqual(['relay-a']);
    s.repo.relayed.add(`${UPDATE}:relay-a`);
    await both();
    await s.repo.writeOutcomes([
      { rolloutId: ID, agentId: 'a1', state: 'succeeded', at: new Date() },
    ]);
    await both();
    await s.repo.writeOutcomes([
      { rolloutId: ID, agentId: 'a3', state: 'succeeded', at: new Date() },
      { rolloutId: ID, agentId: 'a4', state: 'succeeded', at: new Date() },
    ]);
    await both();
    await both();
    const r = (await s.store.get(rolloutKey(ID)))!.value;
    expect(r.state).toBe('completed');
    expect(r.history.map((h) => h.change)).toEqual([
      'created',
      'relays-pending',
      'wave-started',
      'wave-succeeded',
      'wave-started',
      'wave-succeeded',
      'completed',
    ]);
    expect(s.outbox.published.map((e) => e.entityId)).toEqual(
      r.history.map((h) => `${ID}-${h.revision}`),
    );
    expect(s.outbox.published.every((e) => e.type === SUBJECTS.rolloutChanged)).toBe(true);
    expect(r.announced).toBe(r.revision);
    // Finished: its agents are free for another rollout.
    expect((await s.index.get(ACTIVE_KEY))?.value.rollouts).toEqual([]);
  });

  it('announces on a later tick what a failed announcement left', async () => {
    const s = setup();
    await seed(s);
    s.outbox.failNext = true;
    await expect(s.replica().tick(new Date(AT))).rejects.toThrow('nats down');
    expect(s.outbox.published).toEqual([]);
    await s.replica().tick(new Date(AT));
    expect(s.outbox.published.map((e) => e.entityId)).toEqual([`${ID}-1`, `${ID}-2`]);
  });

  it('drops a claim whose rollout was never stored, once it is old enough', async () => {
    const s = setup();
    await s.index.create(ACTIVE_KEY, { rollouts: [active()] });
    await s.replica().tick(new Date(Date.parse(AT) + 10_000));
    expect((await s.index.get(ACTIVE_KEY))?.value.rollouts).toHaveLength(1);
    await s.replica().tick(new Date(Date.parse(AT) + 61_000));
    expect((await s.index.get(ACTIVE_KEY))?.value.rollouts).toEqual([]);
  });
});

describe('conflicts', () => {
  it.each([
    [active(), { platform: 'windows-x86_64' }, false],
    [active(), { groups: ['g2'] }, false],
    [active(), { groups: ['g2', 'g1'] }, true],
    [active({ agentIds: ['a', 'b'] }), { agentIds: ['c'] }, false],
    [active({ agentIds: ['a', 'b'] }), { agentIds: ['b'] }, true],
    [active({ agentIds: ['a'] }), {}, true],
  ])('case %#', (a, over, want) => {
    expect(conflicts(a, { ...active(), ...over })).toBe(want);
  });
});

describe('outcomesOf', () => {
  const report = (over: Partial<FleetReport> = {}): FleetReport => ({
    id: 'a1',
    role: 'agent',
    platform: 'linux-x86_64',
    version: '20.1.0-200',
    relayGroup: 'elsewhere',
    securityUpdates: {},
    seenAt: AT,
    ...over,
  });
  const at = new Date(AT);
  const failed = { updateId: UPDATE, state: 'failed' as const, at: AT };

  it.each([
    ['the target build (dash spelling), in any group', 'succeeded', report()],
    ['an older build', undefined, report({ version: '20.0.1-1' })],
    ['a failed install of the target', 'failed', report({ version: '20.0.1-1', install: failed })],
    [
      'a failed install of another update',
      'succeeded',
      report({ install: { ...failed, updateId: 'upd_x' } }),
    ],
    ['another platform', undefined, report({ platform: 'windows-x86_64' })],
    ['a relay', undefined, report({ role: 'relay' })],
    ['an unreadable version', undefined, report({ version: 'x' })],
  ])('%s -> %s', (_what, state, r) => {
    expect(outcomesOf(r, [active()], at).map((o) => o.state)[0]).toBe(state);
  });

  it('skips agents a rollout of listed agents does not name', () => {
    expect(outcomesOf(report(), [active({ agentIds: ['a2'] })], at)).toEqual([]);
  });
});

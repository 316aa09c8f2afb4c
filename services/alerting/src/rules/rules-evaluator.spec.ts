import {
  DEFAULT_RULE_SETTINGS,
  type AlertStateRef,
  type AlertView,
  type RuleComputer,
  type RulesSnapshot,
  type RuleUpdate,
} from '@sup/domain';
import type { OutgoingEvent } from '@sup/jetstream';
import type { Announcement, AuditTrail, Outbox } from '@sup/service-kit';
import { MemoryVersionedStore } from '@sup/testing';
import type { Logger } from 'pino';
import type { AlertProjection } from '../alert.repository';
import { AlertsService } from '../alerts.service';
import type { AlertingConfig } from '../config';
import { RulesEvaluator } from './rules-evaluator';
import type { RulesFeed } from './rules-feed';
import type { RulesRepository } from './rules.repository';

const NOW = new Date('2026-11-29T12:00:00.000Z');
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
const AGENT = (id: string, version: string): RuleComputer => ({
  id,
  role: 'agent',
  platform: 'linux-x86_64',
  version,
  relayGroup: 'g1',
  securityUpdates: {},
  seenAt: NOW.toISOString(),
});
const BUILD = (version: string): RuleUpdate => ({
  updateId: `upd_${version.replace(/\./g, '')}`,
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version,
  sha256: '0'.repeat(64),
  publishedAt: NOW.toISOString(),
});
const SUBJECT = 'agent/linux-x86_64/9.6';

/**
 * The evaluation over an in-memory alerts KV and an in-memory snapshot: the real AlertsService
 * and rules, only the databases replaced.
 */
function setup() {
  const kv = new MemoryVersionedStore<AlertView>('alerts');
  const announced: OutgoingEvent[] = [];
  const outbox = {
    announce: (events: readonly OutgoingEvent[]): Promise<Announcement[]> => {
      announced.push(...events);
      return Promise.resolve(events.map(() => ({ state: 'published', duplicate: false })));
    },
  };
  const alerts = new AlertsService(
    kv.asStore(),
    { write: () => Promise.resolve() } as unknown as AlertProjection,
    outbox as unknown as Outbox,
    { record: () => Promise.resolve() } as unknown as AuditTrail,
  );
  const state: { snapshot: RulesSnapshot } = {
    snapshot: { computers: [], updates: [], relayed: new Set() },
  };
  const feed = {
    ready: Promise.resolve(),
    snapshot: () => state.snapshot,
    onChange: () => undefined,
  };
  const repository = {
    // The listing copy, as the projection would hold it.
    unresolved: async (rules: readonly string[]): Promise<AlertStateRef[]> => {
      const views = await Promise.all((await kv.keys()).map((k) => kv.get(k)));
      return views
        .map((v) => v!.value)
        .filter((v) => rules.includes(v.rule) && v.state !== 'resolved');
    },
  };
  const config = {
    rules: { evalIntervalMs: 60_000, debounceMs: 0, settings: DEFAULT_RULE_SETTINGS },
  } as unknown as AlertingConfig;
  const evaluator = new RulesEvaluator(
    repository as unknown as RulesRepository,
    feed as unknown as RulesFeed,
    alerts,
    config,
    {} as Logger,
  );
  const alertOf = async (rule: string) => {
    for (const k of await kv.keys()) {
      const v = (await kv.get(k))!.value;
      if (v.rule === rule) return v;
    }
    return undefined;
  };
  const types = () => announced.map((e) => e.type);
  return { evaluator, state, alertOf, types };
}

describe('RulesEvaluator', () => {
  it('raises once, keeps one occurrence across evaluations, resolves when the condition ends and reopens when it returns', async () => {
    const { evaluator, state, alertOf, types } = setup();
    state.snapshot = {
      computers: [AGENT('a1', '9.6.100'), AGENT('a2', '9.6.100')],
      updates: [BUILD('9.6.200')],
      relayed: new Set(),
    };
    for (const m of [0, 1, 2]) await evaluator.evaluate(later(m));
    expect(await alertOf('software-update-available')).toMatchObject({
      subject: SUBJECT,
      state: 'open',
      occurrences: 1,
      details: { count: 2, target: '9.6.200' },
    });
    expect(types()).toEqual(['alerts.v1.raised']);

    state.snapshot = {
      ...state.snapshot,
      computers: [AGENT('a1', '9.6.200'), AGENT('a2', '9.6.200')],
    };
    const stats = await evaluator.evaluate(later(3));
    expect(stats.resolved).toBe(1);
    expect(await alertOf('software-update-available')).toMatchObject({ state: 'resolved' });
    await evaluator.evaluate(later(4));
    expect(types()).toEqual(['alerts.v1.raised', 'alerts.v1.resolved']);

    state.snapshot = { ...state.snapshot, computers: [AGENT('a3', '9.6.100')] };
    await evaluator.evaluate(later(5));
    await evaluator.evaluate(later(6));
    expect(await alertOf('software-update-available')).toMatchObject({
      state: 'open',
      occurrences: 2,
    });
    expect(types()).toEqual(['alerts.v1.raised', 'alerts.v1.resolved', 'alerts.v1.raised']);
  });

  it('counts a changed condition (a newer target build) as one more sighting', async () => {
    const { evaluator, state, alertOf } = setup();
    state.snapshot = {
      computers: [AGENT('a1', '9.6.100')],
      updates: [BUILD('9.6.200')],
      relayed: new Set(),
    };
    await evaluator.evaluate(later(0));
    state.snapshot = { ...state.snapshot, updates: [BUILD('9.6.200'), BUILD('9.6.300')] };
    await evaluator.evaluate(later(1));
    await evaluator.evaluate(later(2));
    expect(await alertOf('software-update-available')).toMatchObject({
      occurrences: 2,
      details: { target: '9.6.300' },
    });
  });

  it('two replicas evaluating the same snapshot make one alert of one occurrence', async () => {
    const { evaluator, state, alertOf, types } = setup();
    state.snapshot = {
      computers: [AGENT('a1', '9.6.100')],
      updates: [BUILD('9.6.200')],
      relayed: new Set(),
    };
    await Promise.all([evaluator.evaluate(later(0)), evaluator.evaluate(later(0))]);
    expect(await alertOf('software-update-available')).toMatchObject({ occurrences: 1 });
    expect(types()).toEqual(['alerts.v1.raised']);
  });
});

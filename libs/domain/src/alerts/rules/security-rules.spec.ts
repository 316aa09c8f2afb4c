import { feedSyncSubject, securityUpdatesStale, updatePending } from './security-rules';
import type { RuleComputer, RuleSyncOutcome, RuleUpdate } from './snapshot';
import { agent, minutesAgo, NOW, relay, security, settings, snapshot } from './test-fixtures';

const DAY_MIN = 24 * 60;

describe('update-pending', () => {
  const rules = (ago: number) =>
    security('firewall-rules', '26-058', { publishedAt: minutesAgo(ago) });
  const pattern = (ago: number) =>
    security('anti-malware-pattern', '19.231.00', { publishedAt: minutesAgo(ago) });
  const on = (id: string, component: string, version: string) =>
    agent(id, '20.0.1', { securityUpdates: { [component]: version } });
  it.each<[string, RuleComputer[], RuleUpdate[], Record<string, number>]>([
    [
      'reference: a rule update not applied after 30 minutes',
      [on('a1', 'firewall-rules', '26-057'), on('a2', 'firewall-rules', '26-058')],
      [rules(30)],
      { 'upd_firewall-rules_26-058': 1 },
    ],
    [
      'a rule update 29 minutes old is not pending yet',
      [on('a1', 'firewall-rules', '26-057')],
      [rules(29)],
      {},
    ],
    [
      'reference: a pattern 45 minutes old is not pending (one hour)',
      [on('a1', 'anti-malware-pattern', '19.230.00')],
      [pattern(45)],
      {},
    ],
    [
      'reference: a pattern not applied after an hour',
      [
        on('a1', 'anti-malware-pattern', '19.230.00'),
        relay('r1', '20.0.1', { securityUpdates: { 'anti-malware-pattern': '19.229.00' } }),
      ],
      [pattern(60)],
      { 'upd_anti-malware-pattern_19.231.00': 2 },
    ],
    [
      'a computer ahead of it is not behind',
      [on('a1', 'firewall-rules', '26-059')],
      [rules(60)],
      {},
    ],
    ['a computer without the component is not counted', [agent('a1', '20.0.1')], [rules(60)], {}],
    [
      'only the newest update of a component is pending',
      [on('a1', 'firewall-rules', '26-001')],
      [rules(60), security('firewall-rules', '26-050')],
      { 'upd_firewall-rules_26-058': 1 },
    ],
  ])('%s', (_, computers, updates, expected) => {
    const h = updatePending(snapshot(computers, updates), NOW, settings).holding;
    expect(Object.fromEntries(h.map((o) => [o.subject, o.details.count]))).toEqual(expected);
  });

  it('lists a bounded, sorted set of computers with the full count', () => {
    const computers = ['c5', 'c4', 'c3', 'c2', 'c1'].map((id) =>
      on(id, 'firewall-rules', '26-001'),
    );
    const [o] = updatePending(snapshot(computers, [rules(60)]), NOW, settings).holding;
    expect(o.details).toMatchObject({ count: 5, computers: ['c1', 'c2', 'c3'] });
    expect(o.observationId).toBe(o.updateId);
  });
});

describe('security-updates-stale', () => {
  it.each<[string, RuleUpdate[], boolean]>([
    ['no rule update yet: no cadence to miss', [], false],
    [
      'last rule update 3 days ago',
      [security('firewall-rules', '26-058', { publishedAt: minutesAgo(3 * DAY_MIN) })],
      false,
    ],
    [
      '7 days and within the grace',
      [security('firewall-rules', '26-058', { publishedAt: minutesAgo(7.5 * DAY_MIN) })],
      false,
    ],
    [
      'reference: 7 days + grace without a rule update',
      [security('firewall-rules', '26-058', { publishedAt: minutesAgo(8.1 * DAY_MIN) })],
      true,
    ],
    [
      'a fresh pattern does not make rules fresh',
      [
        security('firewall-rules', '26-058', { publishedAt: minutesAgo(9 * DAY_MIN) }),
        security('anti-malware-pattern', '19.231.00', { publishedAt: minutesAgo(10) }),
      ],
      true,
    ],
    [
      'any rule component that is new keeps it fresh',
      [
        security('firewall-rules', '26-058', { publishedAt: minutesAgo(9 * DAY_MIN) }),
        security('log-inspection-rules', '26-002', { publishedAt: minutesAgo(DAY_MIN) }),
      ],
      false,
    ],
  ])('%s', (_, updates, held) => {
    const h = securityUpdatesStale(snapshot([], updates), NOW, settings).holding;
    expect(h.map((o) => o.subject)).toEqual(held ? ['rule-updates'] : []);
  });
});

describe('security-updates-stale: the scheduled feed sync failing', () => {
  const FEED = 'https://feeds.example/acme/';
  const fresh = [security('firewall-rules', '26-058', { publishedAt: minutesAgo(DAY_MIN) })];
  const sync = (n: number, state: RuleSyncOutcome['state'], url = FEED): RuleSyncOutcome => ({
    syncId: `sync_${n}`,
    url,
    state,
    ...(state === 'completed' ? {} : { reason: `reason ${n}` }),
    finishedAt: minutesAgo(600 - n * 60),
  });
  const held = (syncs: RuleSyncOutcome[]) =>
    securityUpdatesStale({ ...snapshot([], fresh), syncs }, NOW, settings).holding;

  it.each<[string, RuleSyncOutcome[], number | undefined]>([
    ['no scheduled sync yet', [], undefined],
    ['the latest scheduled sync completed', [sync(1, 'failed'), sync(2, 'completed')], undefined],
    ['the latest scheduled sync failed', [sync(1, 'completed'), sync(2, 'failed')], 1],
    [
      'a refused index counts as failing, and the streak runs back to the last success',
      [sync(1, 'completed'), sync(2, 'failed'), sync(3, 'refused'), sync(4, 'failed')],
      3,
    ],
    ['outcomes in any order are read by finish time', [sync(3, 'failed'), sync(2, 'completed')], 1],
    ['never completed at all', [sync(1, 'failed'), sync(2, 'failed')], 2],
  ])('%s', (_, syncs, failures) => {
    const h = held(syncs);
    if (failures === undefined) return expect(h).toEqual([]);
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({
      subject: feedSyncSubject(FEED),
      details: { url: FEED, failures },
    });
  });

  it('one failure streak is one sighting; a new streak after a success is another', () => {
    const first = held([sync(1, 'completed'), sync(2, 'failed')])[0];
    const longer = held([sync(1, 'completed'), sync(2, 'failed'), sync(3, 'failed')])[0];
    const again = held([sync(2, 'failed'), sync(3, 'completed'), sync(4, 'failed')])[0];
    expect(longer?.observationId).toBe(first?.observationId);
    expect(again?.observationId).not.toBe(first?.observationId);
    expect(longer?.summary).toContain('2 time(s) in a row');
  });

  it('judges each feed on its own, beside the rule updates’ age', () => {
    const other = 'https://feeds.example/other/';
    const stale = [security('firewall-rules', '26-058', { publishedAt: minutesAgo(9 * DAY_MIN) })];
    const h = securityUpdatesStale(
      { ...snapshot([], stale), syncs: [sync(1, 'failed'), sync(2, 'completed', other)] },
      NOW,
      settings,
    ).holding;
    expect(h.map((o) => o.subject).sort()).toEqual([feedSyncSubject(FEED), 'rule-updates']);
  });
});

import { securityUpdatesStale, updatePending } from './security-rules';
import type { RuleComputer, RuleUpdate } from './snapshot';
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

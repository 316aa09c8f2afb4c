import {
  relayContentDrift,
  relayOlderThanAgent,
  relaysNotInSync,
  relayUnavailable,
} from './relay-rules';
import type { RuleComputer, RuleUpdate } from './snapshot';
import {
  agent,
  digest,
  holding,
  minutesAgo,
  NOW,
  relay,
  security,
  settings,
  snapshot,
  software,
} from './test-fixtures';

describe('relay-older-than-agent', () => {
  it.each<[string, RuleComputer[], string[]]>([
    [
      'reference: a relay older than an agent of its group',
      [relay('r1', '20.0.0-100'), agent('a1', '20.0.1-5')],
      ['r1'],
    ],
    [
      'a relay as new as its agents (dash = dot)',
      [relay('r1', '20.0.1-5'), agent('a1', '20.0.1.5')],
      [],
    ],
    ['a newer relay', [relay('r1', '20.0.2'), agent('a1', '20.0.1')], []],
    [
      'an agent of another group does not count',
      [relay('r1', '9.6.100'), agent('a1', '20.0.1', { relayGroup: 'g2' })],
      [],
    ],
    [
      'one alert per relay',
      [
        relay('r1', '9.6.100'),
        relay('r2', '9.6.200'),
        relay('r3', '20.0.1'),
        agent('a1', '20.0.1'),
        agent('a2', '10.0.0'),
      ],
      ['r1', 'r2'],
    ],
  ])('%s', (_, computers, relays) => {
    const { holding: h } = relayOlderThanAgent(snapshot(computers, []), NOW, settings);
    expect(h.map((o) => o.subject)).toEqual(relays);
  });

  it('names the relay and the newest agent, and counts the newer agents', () => {
    const computers = [
      relay('r1', '10.0.0'),
      agent('a1', '9.6.100'),
      agent('a2', '10.0.1'),
      agent('a3', '20.0.1-12345'),
    ];
    const [o] = relayOlderThanAgent(snapshot(computers, []), NOW, settings).holding;
    expect(o.details).toMatchObject({
      relayId: 'r1',
      relayVersion: '10.0.0',
      agentId: 'a3',
      agentVersion: '20.0.1.12345',
      newerAgents: 2,
      agents: ['a2', 'a3'],
    });
    expect(o.summary).toContain('r1');
    expect(o.summary).toContain('a3');
  });
});

describe('relay-unavailable', () => {
  it.each<[string, string, boolean]>([
    ['reported a minute ago', minutesAgo(1), false],
    ['silent just under the threshold', minutesAgo(14.9), false],
    ['silent for the threshold', minutesAgo(15), true],
    ['silent for an hour', minutesAgo(60), true],
  ])('%s', (_, seenAt, held) => {
    const s = snapshot(
      [relay('r1', '20.0.1', { seenAt }), agent('a1', '1.0.0', { seenAt: minutesAgo(99) })],
      [],
    );
    expect(relayUnavailable(s, NOW, settings).holding.map((o) => o.subject)).toEqual(
      held ? ['r1'] : [],
    );
  });

  it('a new silence is a new episode key; the same silence keeps its key', () => {
    const at = (seenAt: string) =>
      relayUnavailable(snapshot([relay('r1', '1.0.0', { seenAt })], []), NOW, settings).holding[0];
    expect(at(minutesAgo(30)).observationId).toBe(at(minutesAgo(30)).observationId);
    expect(at(minutesAgo(30)).observationId).not.toBe(at(minutesAgo(20)).observationId);
    expect(at(minutesAgo(30)).severity).toBe('critical');
  });
});

describe('relays-not-in-sync', () => {
  const rules = security('firewall-rules', '26-058');
  const fresh = security('intrusion-prevention-rules', '26-001', { publishedAt: minutesAgo(5) });
  const build = software('20.0.1-2');
  it.each<[string, RuleComputer[], RuleUpdate[], [string, string][], Record<string, number>]>([
    ['relayed everything', [relay('r1', '20.0.1')], [rules], [[rules.updateId, 'r1']], {}],
    ['an update not relayed for over an hour', [relay('r1', '20.0.1')], [rules], [], { r1: 1 }],
    ['a fresh update is within the sync time', [relay('r1', '20.0.1')], [fresh], [], {}],
    [
      'only the current security update per component counts',
      [relay('r1', '20.0.1')],
      [rules, security('firewall-rules', '26-050')],
      [[rules.updateId, 'r1']],
      {},
    ],
    [
      'agent builds for platforms its group runs',
      [relay('r1', '20.0.1'), agent('a1', '20.0.1'), relay('r2', '20.0.1', { relayGroup: 'g2' })],
      [build],
      [],
      { r1: 1 },
    ],
    [
      'a withdrawn update is not expected',
      [relay('r1', '20.0.1')],
      [{ ...rules, withdrawnAt: minutesAgo(1) }],
      [],
      {},
    ],
  ])('%s', (_, computers, updates, relayed, expected) => {
    const { holding: h } = relaysNotInSync(snapshot(computers, updates, relayed), NOW, settings);
    expect(Object.fromEntries(h.map((o) => [o.subject, o.details.count]))).toEqual(expected);
  });
});

describe('relay-content-drift', () => {
  const rules = security('firewall-rules', '26-058');
  const older = security('firewall-rules', '26-057');
  const withdrawn = security('log-inspection-rules', '26-001', { withdrawnAt: minutesAgo(3) });
  const fresh = security('intrusion-prevention-rules', '26-002', { publishedAt: minutesAgo(5) });
  const updates = [rules, older, withdrawn, fresh];
  it.each<[string, RuleComputer['relay'], string | undefined, object]>([
    [
      'holds the current update (and an older published one)',
      holding([rules.sha256, older.sha256]),
      undefined,
      {},
    ],
    [
      'misses the current update',
      holding([older.sha256]),
      'warning',
      { missingCount: 1, extraCount: 0 },
    ],
    [
      'holds a withdrawn update',
      holding([rules.sha256, withdrawn.sha256]),
      'critical',
      { extraCount: 1 },
    ],
    [
      'holds an unknown file',
      holding([rules.sha256, digest(999_999)]),
      'critical',
      { extraCount: 1 },
    ],
    [
      'reports a Merkle root that is not the root of its holdings',
      { holds: [rules.sha256], merkleRoot: digest(7) },
      'critical',
      { merkleRootMatches: false },
    ],
    ['a fresh update is not missing yet', holding([rules.sha256]), undefined, {}],
  ])('%s', (_, status, severity, details) => {
    const s = snapshot([relay('r1', '20.0.1', { relay: status }), relay('r2', '20.0.1')], updates);
    const h = relayContentDrift(s, NOW, settings).holding;
    expect(h[0]?.severity).toBe(severity);
    if (severity) expect(h[0].details).toMatchObject(details);
    expect(h.length).toBe(severity ? 1 : 0);
  });
});

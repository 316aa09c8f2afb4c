import { pendingUpdates, relayStateRank } from './relay-state';

describe('relay state ranks', () => {
  it('only move forward: pending < failed (by attempt) < relayed', () => {
    expect(relayStateRank('pending')).toBeLessThan(relayStateRank('failed', 1));
    expect(relayStateRank('failed', 1)).toBeLessThan(relayStateRank('failed', 2));
    expect(relayStateRank('failed', 1_000_000)).toBeLessThan(relayStateRank('relayed'));
    expect(relayStateRank('failed', 5_000_000)).toBeLessThan(relayStateRank('relayed'));
  });
});

describe('pendingUpdates', () => {
  const required = [
    { updateId: 'a', sha256: 'da' },
    { updateId: 'b', sha256: 'db' },
    { updateId: 'c', sha256: 'dc' },
  ];
  it('is what the relay neither holds nor relayed', () => {
    expect(pendingUpdates(required, new Set(['da']), new Set(['b']))).toEqual(['c']);
    expect(pendingUpdates(required, new Set(), new Set())).toEqual(['a', 'b', 'c']);
    expect(pendingUpdates(required, new Set(['da', 'db', 'dc']), new Set())).toEqual([]);
  });
});

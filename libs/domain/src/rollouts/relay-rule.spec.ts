import { relayReady, relaysOlderThan } from './relay-rule';

describe('relay rule', () => {
  it.each([
    ['20.0.1-100', [], []],
    ['20.0.1-100', [{ relayId: 'r1', version: '20.0.1.100' }], []],
    ['20.0.1-100', [{ relayId: 'r1', version: '20.1.0-1' }], []],
    [
      '20.0.1-100',
      [
        { relayId: 'r2', version: '20.0.1-99' },
        { relayId: 'r1', version: '19.0.0' },
      ],
      ['r1', 'r2'],
    ],
    ['20.0.1-100', [{ relayId: 'r1', version: 'garbage' }], ['r1']],
  ])('target %s, relays %j -> older %j', (target, relays, older) => {
    expect(relaysOlderThan(target, relays)).toEqual(older);
  });

  it.each([
    ['20.0.1-100', '20.0.1.100', true],
    ['20.0.1-100', '20.0.2', true],
    ['20.0.1-100', '20.0.1-99', false],
    ['20.0.1-100', 'x', false],
  ])('target %s, relay runs %s -> ready %s', (target, version, ready) => {
    expect(relayReady(target, version)).toBe(ready);
  });
});

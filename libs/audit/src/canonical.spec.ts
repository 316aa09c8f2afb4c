import { canonicalJson } from './canonical';
import { recordHash, sealRecord } from './record';

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 'x' }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"y":"x","z":1}]},"b":1}',
    );
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('cannot hold the number NaN');
  });
});

describe('recordHash', () => {
  it('does not depend on the order fields were written in', () => {
    const a = sealRecord({
      v: 1,
      seq: 1,
      prevHash: '0'.repeat(64),
      at: '2026-01-01T00:00:00.000Z',
      kind: 'action',
    });
    const reordered = JSON.parse(
      '{"kind":"action","hash":"' +
        a.hash +
        '","at":"2026-01-01T00:00:00.000Z","seq":1,"v":1,"prevHash":"' +
        '0'.repeat(64) +
        '"}',
    ) as typeof a;
    expect(recordHash(reordered)).toBe(a.hash);
    expect(recordHash({ ...a, seq: 2 })).not.toBe(a.hash);
  });
});

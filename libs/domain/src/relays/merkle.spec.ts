import { createHash } from 'node:crypto';
import { contentDrift, merkleRoot } from './merkle';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const h = (...parts: Buffer[]): string =>
  parts.reduce((acc, p) => acc.update(p), createHash('sha256')).digest('hex');
const leaf = (d: string): Buffer => Buffer.from(h(Buffer.from([0]), Buffer.from(d, 'hex')), 'hex');
const node = (l: Buffer, r: Buffer): Buffer => Buffer.from(h(Buffer.from([1]), l, r), 'hex');

describe('merkleRoot', () => {
  const [a, b, c] = [sha('a'), sha('b'), sha('c')].sort();

  it('is SHA-256 of nothing for no digests', () => {
    expect(merkleRoot([])).toBe(sha(''));
  });

  it('is the leaf hash for one digest', () => {
    expect(merkleRoot([a])).toBe(leaf(a).toString('hex'));
  });

  it('pairs leaves and promotes an odd one', () => {
    expect(merkleRoot([a, b])).toBe(node(leaf(a), leaf(b)).toString('hex'));
    expect(merkleRoot([a, b, c])).toBe(node(node(leaf(a), leaf(b)), leaf(c)).toString('hex'));
  });

  it('depends on the set, not the order or repeats', () => {
    expect(merkleRoot([c, a, b, a])).toBe(merkleRoot([a, b, c]));
  });

  it('differs when one digest differs', () => {
    expect(merkleRoot([a, b])).not.toBe(merkleRoot([a, c]));
  });

  it('refuses what is not a lower-case hex digest', () => {
    expect(() => merkleRoot([a.toUpperCase()])).toThrow(/not a SHA-256/);
    expect(() => merkleRoot(['abc'])).toThrow(/not a SHA-256/);
  });
});

describe('contentDrift', () => {
  it('names missing and extra digests', () => {
    expect(contentDrift([sha('a'), sha('x')], [sha('a'), sha('b')])).toEqual({
      missing: [sha('b')],
      extra: [sha('x')],
    });
    expect(contentDrift([sha('a')], [sha('a')])).toEqual({ missing: [], extra: [] });
  });
});

import { LruCache } from './lru-cache';

const keys = (cache: LruCache<string, number>, all: string[]) =>
  all.filter((k) => cache.get(k) !== undefined);

describe('LruCache', () => {
  it('evicts the least recently used entry, counting hits as use', () => {
    const cache = new LruCache<string, number>(3);
    expect(['a', 'b', 'c'].map((k, i) => cache.set(k, i))).toEqual([0, 0, 0]);
    cache.get('a'); // order now b, c, a
    cache.get('a'); // a hit on the newest entry changes nothing
    expect(cache.set('d', 3)).toBe(1);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.size).toBe(3);
    cache.get('c'); // order now a, d, c
    cache.set('e', 4);
    expect(keys(cache, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e']);
  });

  it('replaces a value without growing, and forgets deleted and cleared entries', () => {
    const cache = new LruCache<string, number>(2);
    cache.set('a', 1);
    expect(cache.set('a', 2)).toBe(0);
    expect(cache.get('a')).toBe(2);
    expect(cache.delete('a')).toBe(true);
    expect(cache.get('a')).toBeUndefined();
    cache.set('b', 1);
    cache.set('c', 2);
    cache.clear();
    expect(cache.size).toBe(0);
    cache.set('d', 3);
    expect(cache.get('d')).toBe(3);
  });

  it('refuses a size below one', () => {
    expect(() => new LruCache(0)).toThrow(RangeError);
    expect(() => new LruCache(1.5)).toThrow(RangeError);
  });
});

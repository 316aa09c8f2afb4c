import { MemoryVersionedStore } from './memory-versioned-store';

interface Counter {
  n: number;
  by: string[];
}

const bump =
  (who: string) =>
  (current?: { value: Counter }): Counter => ({
    n: (current?.value.n ?? 0) + 1,
    by: [...(current?.value.by ?? []), who],
  });

// The fake stands in for the KV bucket in other suites, so it must keep the bucket's promises.
describe('MemoryVersionedStore', () => {
  it('creates once: a second create keeps the first value', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    expect(await kv.create('k', { n: 1, by: [] })).toBe(true);
    expect(await kv.create('k', { n: 2, by: [] })).toBe(false);
    expect(await kv.get('k')).toEqual({ value: { n: 1, by: [] }, revision: 1 });
    expect(await kv.get('missing')).toBeUndefined();
  });

  it('takes the next revision of the bucket on every write, whatever the key', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    expect((await kv.update('a', bump('x')))?.revision).toBe(1);
    expect((await kv.update('b', bump('x')))?.revision).toBe(2);
    expect((await kv.update('a', bump('y')))?.revision).toBe(3);
    expect(kv.written).toEqual(['a', 'b', 'a']);
  });

  it('writes nothing when the mutation returns undefined', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    const before = kv.set('k', { n: 5, by: [] });
    expect(await kv.update('k', () => undefined)).toEqual(before);
    expect(await kv.update('absent', () => undefined)).toBeUndefined();
    expect(kv.written).toEqual(['k']);
  });

  it('re-applies the mutation on what another writer stored meanwhile', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    kv.set('k', { n: 0, by: [] });
    kv.beforeWrite = async (key, attempt) => {
      if (attempt === 1) kv.set(key, bump('other')(await kv.get(key)));
    };
    const after = await kv.update('k', bump('me'));
    expect(after?.value).toEqual({ n: 2, by: ['other', 'me'] });
    expect((await kv.get('k'))?.value).toEqual(after?.value);
  });

  it('loses the round to a create of a key it read as absent', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    kv.beforeWrite = async (key, attempt) => {
      if (attempt === 1) await kv.create(key, { n: 10, by: ['first'] });
    };
    expect((await kv.update('k', bump('me')))?.value).toEqual({ n: 11, by: ['first', 'me'] });
  });

  it('gives up as CasConflictError when every round is lost', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    kv.beforeWrite = (key) => void kv.set(key, { n: -1, by: [] });
    await expect(kv.update('k', bump('me'), 3)).rejects.toMatchObject({
      name: 'CasConflictError',
      message: 'k: still contended after 3 compare-and-set attempts',
    });
  });

  it('fails a write when beforeWrite throws, storing nothing', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    kv.beforeWrite = () => {
      throw new Error('KV unavailable');
    };
    await expect(kv.update('k', bump('me'))).rejects.toThrow('KV unavailable');
    expect(await kv.keys()).toEqual([]);
  });

  it('hands the mutation a frozen value, so changing it in place fails loudly', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    kv.set('k', { n: 1, by: ['a'] });
    const impure = (current?: { value: Counter }) => {
      current?.value.by.push('b');
      return current?.value;
    };
    await expect(kv.update('k', impure)).rejects.toThrow(TypeError);
    // What it returns and what get returns are the caller's to change.
    const after = await kv.update('k', () => undefined);
    after?.value.by.push('mine');
    expect((await kv.get('k'))?.value.by).toEqual(['a']);
  });

  it('stores values as JSON, as the bucket does', async () => {
    const kv = new MemoryVersionedStore<{ at: Date | string; gone?: undefined }>();
    kv.set('k', { at: new Date('2026-03-01T10:00:00.000Z'), gone: undefined });
    expect((await kv.get('k'))?.value).toEqual({ at: '2026-03-01T10:00:00.000Z' });
  });

  it('deletes, optionally only at the revision given', async () => {
    const kv = new MemoryVersionedStore<Counter>();
    const { revision } = kv.set('k', { n: 1, by: [] });
    await expect(kv.delete('k', revision + 1)).rejects.toThrow('wrong last sequence');
    await kv.delete('k', revision);
    await kv.delete('never-there');
    expect(await kv.keys()).toEqual([]);
    expect(await kv.get('k')).toBeUndefined();
  });
});

import { randomBytes } from 'node:crypto';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { VersionedStore } from './versioned-store';

jest.setTimeout(20_000);

let stop: () => Promise<void>;
let a: JetStreamConnection;
let b: JetStreamConnection;
const bucket = `spec_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  a = await connectJetStream({ servers: nats.url, service: 'kv-spec-a' });
  b = await connectJetStream({ servers: nats.url, service: 'kv-spec-b' });
});

afterAll(async () => {
  await a?.jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
  await a?.close();
  await b?.close();
  await stop?.();
});

describe('VersionedStore', () => {
  it('creates once: a second create keeps the first value', async () => {
    const store = await VersionedStore.open<{ n: number }>(a, bucket);
    expect(await store.create('k1', { n: 1 })).toBe(true);
    expect(await store.create('k1', { n: 2 })).toBe(false);
    expect((await store.get('k1'))?.value).toEqual({ n: 1 });
    expect(await store.get('missing')).toBeUndefined();
  });

  it('loses no increment when two connections update one key concurrently', async () => {
    const [sa, sb] = await Promise.all([
      VersionedStore.open<{ n: number; by: string[] }>(a, bucket),
      VersionedStore.open<{ n: number; by: string[] }>(b, bucket),
    ]);
    const bump = (who: string) => (cur?: { value: { n: number; by: string[] } }) => ({
      n: (cur?.value.n ?? 0) + 1,
      by: [...(cur?.value.by ?? []), who],
    });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 ? sa.update('counter', bump(`a${i}`), 200) : sb.update('counter', bump(`b${i}`), 200),
      ),
    );
    const final = await sa.get('counter');
    expect(final?.value.n).toBe(40);
    expect(new Set(final?.value.by).size).toBe(40);
  });

  it('writes nothing when the mutation returns undefined', async () => {
    const store = await VersionedStore.open<{ n: number }>(a, bucket);
    await store.create('k2', { n: 5 });
    const before = await store.get('k2');
    const after = await store.update('k2', () => undefined);
    expect(after?.revision).toBe(before?.revision);
    expect(await store.keys()).toEqual(expect.arrayContaining(['k1', 'k2']));
  });
});

describe('VersionedStore.keys', () => {
  it('ends while keys are being added and updated, listing every key made before it began', async () => {
    const store = await VersionedStore.open<{ n: number }>(
      a,
      `spec_keys_${randomBytes(4).toString('hex')}`,
    );
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`old.${i}`, { n: i })));
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing; i++) {
          await store.create(`new.${i}`, { n: i });
          await store.update('old.0', (cur) => ({ n: (cur?.value.n ?? 0) + 1 }));
        }
      })();
      for (let round = 0; round < 10; round++) {
        const keys = await store.keys();
        for (let i = 0; i < 50; i++) expect(keys).toContain(`old.${i}`);
      }
      writing = false;
      await writer;
    } finally {
      await a.jsm.streams.delete(`KV_${store.bucket}`).catch(() => undefined);
    }
  });
});

describe('VersionedStore.watch', () => {
  const watched = `spec_watch_${randomBytes(4).toString('hex')}`;
  afterAll(() => a?.jsm.streams.delete(`KV_${watched}`).catch(() => undefined));

  /** A watch of `c.>` into a map of key -> n. */
  const watchInto = (store: VersionedStore<{ n: number }>) => {
    const seen = new Map<string, number>();
    const watch = store.watch('c.>', (key, value) =>
      value ? seen.set(key, value.n) : seen.delete(key),
    );
    return { seen, watch };
  };
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!check()) throw new Error(`watch never saw ${what}`);
  };

  it('is ready at once on an empty bucket, then sees changes and deletions', async () => {
    const store = await VersionedStore.open<{ n: number }>(a, watched);
    const { seen, watch } = watchInto(store);
    try {
      await watch.ready;
      await store.create('c.one', { n: 1 });
      await store.update('c.one', () => ({ n: 2 }));
      await store.create('c.two', { n: 3 });
      await until(() => seen.get('c.one') === 2 && seen.get('c.two') === 3, 'both keys');
      await store.delete('c.two');
      await until(() => !seen.has('c.two'), 'the deletion');
    } finally {
      await watch.stop();
    }
  });

  it('delivers every current value before ready, from another connection too', async () => {
    const writer = await VersionedStore.open<{ n: number }>(a, watched);
    await Promise.all(Array.from({ length: 300 }, (_, i) => writer.create(`c.k${i}`, { n: i })));
    const { seen, watch } = watchInto(await VersionedStore.open<{ n: number }>(b, watched));
    try {
      await watch.ready;
      // c.one from the first case is still there; c.two was deleted.
      expect(seen.size).toBe(301);
      expect(seen.get('c.k299')).toBe(299);
      expect(seen.has('c.two')).toBe(false);
    } finally {
      await watch.stop();
    }
  });
});

describe('VersionedStore with a revision cache', () => {
  it('loses no increment when two caching connections update one key, and answers "no change" from the store', async () => {
    const name = `spec_cache_${randomBytes(4).toString('hex')}`;
    const [sa, sb] = await Promise.all([
      VersionedStore.open<{ n: number }>(a, name, { cacheEntries: 10 }),
      VersionedStore.open<{ n: number }>(b, name, { cacheEntries: 10 }),
    ]);
    try {
      const bump = (cur?: { value: { n: number } }) => ({ n: (cur?.value.n ?? 0) + 1 });
      for (let round = 0; round < 5; round++)
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? sa : sb).update('k', bump, 200)),
        );
      expect((await sa.get('k'))?.value.n).toBe(50);
      // sb's cache is behind sa's last write: a mutation that would change nothing on the cached
      // value is asked again about the stored one.
      await sa.update('k', () => ({ n: 1_000 }));
      const seen: number[] = [];
      const after = await sb.update('k', (cur) => {
        seen.push(cur?.value.n ?? -1);
        return undefined;
      });
      expect(after?.value.n).toBe(1_000);
      expect(seen.at(-1)).toBe(1_000);
    } finally {
      await a.jsm.streams.delete(`KV_${name}`).catch(() => undefined);
    }
  });
});

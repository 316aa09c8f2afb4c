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

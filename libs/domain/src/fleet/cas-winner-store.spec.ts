import { MemoryVersionedStore } from '@sup/testing';
import { CasWinnerStore } from './cas-winner-store';
import type { RankedValue, SkipRule } from './latest-wins';

interface Doc extends RankedValue {
  by: string;
  seen: number;
}
const skip: SkipRule<Doc> = {
  sameMaterial: (a, b) => a.by === b.by,
  seenAt: (d) => d.seen,
  resolutionMs: 60_000,
};

describe('CasWinnerStore', () => {
  it('claims under its prefix, marks the confirmed revision, then skips an unchanged value', async () => {
    const kv = new MemoryVersionedStore<Doc>();
    const store = new CasWinnerStore<Doc>(kv, skip, 'computer.');
    const first = await store.claim('pc', { rank: '1', by: 'a', seen: 1_000 });
    expect(first.value.written).toBeUndefined();
    await store.mark('pc', first);
    expect((await kv.get('computer.pc'))?.value).toMatchObject({
      written: true,
      writtenSeenAt: 1_000,
    });
    const second = await store.claim('pc', { rank: '2', by: 'a', seen: 31_000 });
    expect(second.value).toMatchObject({ rank: '2', written: true, writtenSeenAt: 1_000 });
    expect((await store.get('pc'))?.revision).toBe(second.revision);
  });

  it('does not mark a key that moved on after the write, nor without a skip rule', async () => {
    const kv = new MemoryVersionedStore<Doc>();
    const store = new CasWinnerStore<Doc>(kv, skip);
    const first = await store.claim('pc', { rank: '1', by: 'a', seen: 1_000 });
    const newer = await store.claim('pc', { rank: '2', by: 'b', seen: 2_000 });
    await store.mark('pc', first);
    expect(await kv.get('pc')).toEqual(newer);

    const plain = new CasWinnerStore<Doc>(kv, undefined);
    await plain.mark('pc', newer);
    expect((await kv.get('pc'))?.value.written).toBeUndefined();
  });
});

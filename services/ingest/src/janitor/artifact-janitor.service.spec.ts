import type { ArtifactStore } from '@sup/artifact-store';
import {
  buildEvent,
  eventId,
  SUBJECTS,
  type EventData,
  type UpdateDescriptor,
} from '@sup/contracts';
import { BlobBeingDeletedError, type ArtifactRefs } from '@sup/domain';
import { EventBatch, type BatchItem } from '@sup/jetstream';
import { MemoryVersionedStore } from '@sup/testing';
import type { Logger } from 'pino';
import { ArtifactRefsService } from '../state/artifact-refs';
import { ArtifactJanitor } from './artifact-janitor.service';

type Rejected = typeof SUBJECTS.rejected;

const key = (c: string) => c.repeat(64);
const ARTIFACT = key('a');
const SIGNATURE = key('5');
const SHARED = key('b');

/** The stored bytes, by key; `delete` says whether there was anything, as the real stores do. */
class MemoryArtifactStore {
  readonly bytes = new Map<string, Buffer>();
  readonly deleted: string[] = [];
  /** Keys whose next delete fails, as a crash or a lost connection would. */
  readonly failNextDelete = new Set<string>();

  constructor(keys: string[] = []) {
    for (const k of keys) this.bytes.set(k, Buffer.from(k));
  }

  delete(k: string): Promise<boolean> {
    if (this.failNextDelete.delete(k))
      return Promise.reject(new Error(`delete ${k}: connection lost`));
    this.deleted.push(k);
    return Promise.resolve(this.bytes.delete(k));
  }
}

function update(n: number, keys: { artifact: string; signature: string }): UpdateDescriptor {
  return {
    updateId: `upd_${n.toString(16).padStart(24, '0')}`,
    kind: 'software',
    component: 'agent',
    platform: 'linux-x86_64',
    version: `20.0.${n}-1`,
    source: { type: 'manual', importId: `imp_${n}` },
    artifact: {
      path: `agent-${n}.tar.gz`,
      size: 10,
      sha256: keys.artifact,
      storeKey: keys.artifact,
    },
    signature: {
      path: `agent-${n}.tar.gz.p7s`,
      format: 'cms-detached-der',
      storeKey: keys.signature,
    },
  };
}

function rejection(u: UpdateDescriptor | undefined, updateId = u?.updateId): BatchItem<Rejected> {
  const data: EventData<Rejected> = {
    updateId: updateId ?? 'upd_ffffffffffffffffffffffff',
    stage: u ? 'checksum' : 'feed',
    code: u ? 'sha256-mismatch' : 'invalid-entry',
    reason: 'rejected for the test',
    ...(u ? { update: u } : { entry: { kind: 'software' } }),
    rejectedAt: '2026-03-01T10:00:00.000Z',
  };
  return {
    event: buildEvent(SUBJECTS.rejected, data, {
      id: eventId(SUBJECTS.rejected, data.updateId),
      source: '/services/checksum',
    }),
    subject: `${SUBJECTS.rejected}.${data.updateId}`,
    entityId: data.updateId,
    deliveryCount: 1,
    finalAttempt: false,
  };
}

function setup(storedKeys: string[], refs: Record<string, ArtifactRefs> = {}) {
  const kv = new MemoryVersionedStore<ArtifactRefs>('ingest_artifact_refs');
  for (const [k, v] of Object.entries(refs)) kv.set(k, v);
  const store = new MemoryArtifactStore(storedKeys);
  const logs: string[] = [];
  const logger = { info: (_: object, message: string) => logs.push(message) };
  const refsService = new ArtifactRefsService(kv.asStore());
  const janitor = new ArtifactJanitor(
    store as unknown as ArtifactStore,
    logger as unknown as Logger,
    refsService,
  );
  /** Runs one batch as the transport would, returning each item's verdict. */
  const discard = async (...items: BatchItem<Rejected>[]) => {
    const batch = new EventBatch(SUBJECTS.rejected, items);
    await janitor.discardBatch(batch);
    return items.map((i) => batch.verdictOf(i));
  };
  const refsOf = async (k: string) => (await kv.get(k))?.value;
  return { kv, store, logs, refs: refsService, discard, refsOf };
}

const ACK = { outcome: 'ack' };

describe('ArtifactJanitor', () => {
  const u1 = update(1, { artifact: ARTIFACT, signature: SIGNATURE });

  it('deletes the artifact and signature of a rejected update that alone held them', async () => {
    const { store, discard, kv, logs } = setup([ARTIFACT, SIGNATURE, SHARED], {
      [ARTIFACT]: { holders: [u1.updateId] },
      [SIGNATURE]: { holders: [u1.updateId] },
    });
    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect([...store.bytes.keys()]).toEqual([SHARED]);
    // Forgotten: imports may store these bytes afresh.
    expect(await kv.keys()).toEqual([]);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toContain('checksum: sha256-mismatch');
  });

  it('keeps bytes another live update still holds, and releases only its own hold', async () => {
    const u2 = update(2, { artifact: SHARED, signature: key('6') });
    const u3 = update(3, { artifact: SHARED, signature: key('7') });
    const { store, discard, refsOf } = setup([SHARED, key('6'), key('7')], {
      [SHARED]: { holders: [u2.updateId, u3.updateId] },
      [key('6')]: { holders: [u2.updateId] },
      [key('7')]: { holders: [u3.updateId] },
    });
    expect(await discard(rejection(u2))).toEqual([ACK]);
    expect(store.bytes.has(SHARED)).toBe(true);
    expect(store.bytes.has(key('6'))).toBe(false);
    expect(await refsOf(SHARED)).toEqual({ holders: [u3.updateId] });

    // The other holder is rejected too: now the shared bytes go.
    expect(await discard(rejection(u3))).toEqual([ACK]);
    expect([...store.bytes.keys()]).toEqual([]);
    expect(await refsOf(SHARED)).toBeUndefined();
  });

  it('deletes bytes once when artifact and signature are the same content', async () => {
    const same = update(4, { artifact: SHARED, signature: SHARED });
    const { store, discard } = setup([SHARED], { [SHARED]: { holders: [same.updateId] } });
    expect(await discard(rejection(same))).toEqual([ACK]);
    expect(store.deleted).toEqual([SHARED]);
  });

  it('deletes bytes stored before references were kept (nobody known to hold them)', async () => {
    const { store, discard, kv } = setup([ARTIFACT, SIGNATURE]);
    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect(store.bytes.size).toBe(0);
    expect(await kv.keys()).toEqual([]);
  });

  it('keeps bytes the rejected update never held', async () => {
    const other = 'upd_eeeeeeeeeeeeeeeeeeeeeeee';
    const { store, discard, refsOf } = setup([ARTIFACT, SIGNATURE], {
      [ARTIFACT]: { holders: [other] },
      [SIGNATURE]: { holders: [other] },
    });
    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect(store.deleted).toEqual([]);
    expect(await refsOf(ARTIFACT)).toEqual({ holders: [other] });
  });

  it('still deletes on redelivery after a crash between "marked deleting" and "deleted"', async () => {
    const { store, discard, refsOf, refs } = setup([ARTIFACT, SIGNATURE], {
      [ARTIFACT]: { holders: [u1.updateId] },
      [SIGNATURE]: { holders: [u1.updateId] },
    });
    store.failNextDelete.add(ARTIFACT);

    const [first] = await discard(rejection(u1));
    expect(first).toMatchObject({
      outcome: 'retry',
      error: { message: expect.stringContaining('connection lost') },
    });
    expect(store.bytes.has(ARTIFACT)).toBe(true);
    expect(await refsOf(ARTIFACT)).toEqual({ holders: [], deleting: true });

    // Meanwhile an import of the same bytes must wait: they are about to go.
    const u9 = 'upd_999999999999999999999999';
    await expect(refs.acquire(ARTIFACT, u9)).rejects.toBeInstanceOf(BlobBeingDeletedError);

    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect(store.bytes.size).toBe(0);
    expect(await refsOf(ARTIFACT)).toBeUndefined();

    // Gone and forgotten: the import's retry can now store them afresh.
    await refs.acquire(ARTIFACT, u9);
    expect(await refsOf(ARTIFACT)).toEqual({ holders: [u9] });
  });

  it('forgets on redelivery after a crash between "deleted" and "forgotten"', async () => {
    // The bytes are gone but the mark stayed: nothing to delete, and the mark must not stay forever.
    const { store, discard, kv, logs } = setup([SIGNATURE], {
      [ARTIFACT]: { holders: [], deleting: true },
      [SIGNATURE]: { holders: [u1.updateId] },
    });
    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect(store.deleted).toEqual([ARTIFACT, SIGNATURE]);
    expect(await kv.keys()).toEqual([]);
    expect(logs).toHaveLength(1); // only what was really deleted is logged
  });

  it('keeps bytes an import acquired again after the rejection was handled once', async () => {
    const { store, discard, refs, refsOf } = setup([ARTIFACT, SIGNATURE], {
      [ARTIFACT]: { holders: [u1.updateId] },
      [SIGNATURE]: { holders: [u1.updateId] },
    });
    await discard(rejection(u1));
    const u2 = 'upd_222222222222222222222222';
    await refs.acquire(ARTIFACT, u2);
    store.bytes.set(ARTIFACT, Buffer.from('stored again'));

    // The same rejection, redelivered: u1 no longer holds the bytes, so nothing happens to them.
    expect(await discard(rejection(u1))).toEqual([ACK]);
    expect(store.bytes.has(ARTIFACT)).toBe(true);
    expect(await refsOf(ARTIFACT)).toEqual({ holders: [u2] });
  });

  it('does nothing for a rejection without an update (nothing was stored)', async () => {
    const { store, discard, kv } = setup([ARTIFACT], { [ARTIFACT]: { holders: ['x'] } });
    const revision = (await kv.get(ARTIFACT))?.revision;
    expect(await discard(rejection(undefined))).toEqual([ACK]);
    expect(store.deleted).toEqual([]);
    expect((await kv.get(ARTIFACT))?.revision).toBe(revision);
    expect(kv.written).toEqual([ARTIFACT]); // the seed only
  });

  it('retries only the item that failed in a batch; the others are done', async () => {
    const u2 = update(2, { artifact: key('c'), signature: key('d') });
    const { store, discard } = setup([ARTIFACT, SIGNATURE, key('c'), key('d')], {
      [ARTIFACT]: { holders: [u1.updateId] },
      [SIGNATURE]: { holders: [u1.updateId] },
      [key('c')]: { holders: [u2.updateId] },
      [key('d')]: { holders: [u2.updateId] },
    });
    store.failNextDelete.add(key('d'));
    const verdicts = await discard(rejection(u1), rejection(u2), rejection(undefined));
    expect(verdicts.map((v) => v.outcome)).toEqual(['ack', 'retry', 'ack']);
    expect([...store.bytes.keys()]).toEqual([key('d')]);
  });

  it('retries when the references cannot be changed', async () => {
    const { store, discard, kv } = setup([ARTIFACT, SIGNATURE]);
    kv.beforeWrite = () => {
      throw new Error('KV unavailable');
    };
    const [verdict] = await discard(rejection(u1));
    expect(verdict).toMatchObject({ outcome: 'retry', error: { message: 'KV unavailable' } });
    expect(store.deleted).toEqual([]);
  });
});

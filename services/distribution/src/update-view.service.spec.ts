import { NotFoundException } from '@nestjs/common';
import {
  buildEvent,
  eventId,
  SUBJECTS,
  type CloudEvent,
  type EventData,
  type ListUpdatesQuery,
  type UpdateDescriptor,
} from '@sup/contracts';
import { applyUpdateEvent, type UpdateEventType, type UpdateView } from '@sup/domain';
import { EventBatch, type BatchItem } from '@sup/jetstream';
import { MemoryVersionedStore, SAMPLE_SIGNER } from '@sup/testing';
import type { UpdateViewDoc } from './schemas';
import type { UpdateViewProjection } from './update-view.repository';
import { UpdateViewService } from './update-view.service';

type Item = BatchItem<UpdateEventType>;

const U1 = 'upd_111111111111111111111111';
const U2 = 'upd_222222222222222222222222';
const SIGNER = SAMPLE_SIGNER;

/** What the views of these updates tell, besides their id, size and state. */
const RELAY = {
  kind: 'software',
  component: 'relay',
  platform: 'win-x86_64',
  version: '20.0.1-1',
  sha256: 'a'.repeat(64),
} as const;

const descriptor = (updateId: string): UpdateDescriptor => ({
  updateId,
  kind: RELAY.kind,
  component: RELAY.component,
  platform: RELAY.platform,
  version: RELAY.version,
  source: { type: 'manual', importId: 'imp_1' },
  artifact: { path: 'relay.zip', size: 42, sha256: 'a'.repeat(64), storeKey: 'a'.repeat(64) },
  signature: { path: 'relay.zip.p7s', format: 'cms-detached-der', storeKey: 'b'.repeat(64) },
});

/** The payload each event type carries for `updateId`. */
function dataOf(type: UpdateEventType, updateId: string): EventData<UpdateEventType> {
  const update = descriptor(updateId);
  const at = '2026-03-01T10:00:00.000Z';
  switch (type) {
    case SUBJECTS.imported:
      return { update, importedAt: at };
    case SUBJECTS.checksumVerified:
      return { update, computedSha256: 'a'.repeat(64), computedSize: 42, verifiedAt: at };
    case SUBJECTS.validated:
      return {
        update,
        signer: SIGNER,
        signatureAlgorithm: 'ecdsa',
        digestAlgorithm: 'sha256',
        signedAttributes: true,
        validatedAt: at,
      };
    case SUBJECTS.published:
      return { update, publishedAt: at };
    case SUBJECTS.rejected:
      return {
        updateId,
        stage: 'signature',
        code: 'untrusted-signer',
        reason: 'no trust anchor',
        update,
        rejectedAt: at,
      };
  }
}

/** `type`'s event about `updateId`, at second `second` of the test's clock. */
function event(
  type: UpdateEventType,
  updateId: string,
  second: number,
  id = eventId(type, updateId),
): CloudEvent<UpdateEventType> {
  return buildEvent(type, dataOf(type, updateId), {
    id,
    source: '/services/test',
    subject: updateId,
    time: new Date(Date.UTC(2026, 2, 1, 10, 0, second)),
  });
}

const item = (e: CloudEvent<UpdateEventType>): Item => ({
  event: e,
  subject: `${e.type}.${e.subject ?? ''}`,
  entityId: e.subject ?? '',
  deliveryCount: 1,
  finalAttempt: false,
});

/** The listing copy: records every bulk write it is given. */
class FakeProjection {
  readonly writes: { view: UpdateView; revision: number }[][] = [];
  /** Runs after each write is recorded: a test plays other replicas here. */
  afterWrite: ((round: number) => void | Promise<void>) | undefined;
  docs: UpdateViewDoc[] = [];
  readonly queries: ListUpdatesQuery[] = [];

  /** The next write fails with this (and is not recorded). */
  failNext: Error | undefined;

  async write(views: { view: UpdateView; revision: number }[]): Promise<void> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    this.writes.push(structuredClone(views));
    await this.afterWrite?.(this.writes.length);
  }

  page(query: ListUpdatesQuery): Promise<{ docs: UpdateViewDoc[]; total: number }> {
    this.queries.push(query);
    return Promise.resolve({ docs: this.docs, total: 57 });
  }
}

function setup() {
  const kv = new MemoryVersionedStore<UpdateView>('update_views');
  const projection = new FakeProjection();
  const service = new UpdateViewService(
    kv.asStore(),
    projection as unknown as UpdateViewProjection,
  );
  const apply = async (type: UpdateEventType, ...events: CloudEvent<UpdateEventType>[]) => {
    const items = events.map(item);
    const batch = new EventBatch<UpdateEventType>(type, items);
    await service.applyBatch(type, batch);
    return items.map((i) => batch.verdictOf(i));
  };
  const view = async (id: string) => (await kv.get(id))?.value;
  return { kv, projection, service, apply, view };
}

/** Another replica's winning write: the event applied on top of what is stored. */
async function otherReplicaApplies(
  kv: MemoryVersionedStore<UpdateView>,
  type: UpdateEventType,
  e: CloudEvent<UpdateEventType>,
) {
  const current = await kv.get(e.subject ?? '');
  const next = applyUpdateEvent(current?.value, type, e, new Date('2026-03-01T11:00:00.000Z'));
  if (next) kv.set(e.subject ?? '', next);
}

const ACK = { outcome: 'ack' };

describe('UpdateViewService.applyBatch', () => {
  it('merges the events of one update in a batch with one compare-and-set', async () => {
    const t = setup();
    // The same type twice for one update (a replay under another id) and a redelivered copy.
    const first = event(SUBJECTS.rejected, U1, 5);
    const replay = event(SUBJECTS.rejected, U1, 6, 'replayed-rejection');
    const verdicts = await t.apply(
      SUBJECTS.rejected,
      first,
      replay,
      first,
      event(SUBJECTS.rejected, U2, 5),
    );

    expect(verdicts).toEqual([ACK, ACK, ACK, ACK]);
    expect(t.kv.written.sort()).toEqual([U1, U2]);
    expect((await t.view(U1))?.history.map((h) => h.eventId)).toEqual([
      first.id,
      'replayed-rejection',
    ]);
    expect((await t.view(U2))?.history).toHaveLength(1);
  });

  it('hands the projection each changed view with the revision it was stored at, in one write', async () => {
    const t = setup();
    await t.apply(
      SUBJECTS.imported,
      event(SUBJECTS.imported, U1, 1),
      event(SUBJECTS.imported, U2, 1),
    );

    expect(t.projection.writes).toHaveLength(1);
    const written = t.projection.writes[0];
    expect(written.map((w) => w.view.id).sort()).toEqual([U1, U2]);
    for (const w of written) {
      const stored = await t.kv.get(w.view.id);
      expect(w).toEqual({ view: stored?.value, revision: stored?.revision });
    }
  });

  it('builds on what is stored: a later stage moves the view on', async () => {
    const t = setup();
    await t.apply(SUBJECTS.imported, event(SUBJECTS.imported, U1, 1));
    await t.apply(SUBJECTS.validated, event(SUBJECTS.validated, U1, 3));
    expect(await t.view(U1)).toMatchObject({ state: 'validated', rank: 3, signer: SIGNER });
    expect(t.projection.writes[1][0].view.state).toBe('validated');
  });

  it('on redelivery writes no view but projects the stored one again (a crash may have come between)', async () => {
    const t = setup();
    const e = event(SUBJECTS.imported, U1, 1);
    t.projection.failNext = new Error('mongo unavailable');
    // The view is stored, then the projection fails: the handler fails and the batch is redelivered.
    await expect(t.apply(SUBJECTS.imported, e)).rejects.toThrow('mongo unavailable');
    const stored = await t.kv.get(U1);
    const written = t.kv.written.length;

    expect(await t.apply(SUBJECTS.imported, e)).toEqual([ACK]);

    expect(t.kv.written).toHaveLength(written);
    expect(t.projection.writes.at(-1)).toEqual([
      { view: stored?.value, revision: stored?.revision },
    ]);
  });

  it('re-applies its events on top of another replica’s write that won the race', async () => {
    const t = setup();
    await t.apply(SUBJECTS.imported, event(SUBJECTS.imported, U1, 1));
    let raced = false;
    t.kv.beforeWrite = async () => {
      if (raced) return;
      raced = true;
      await otherReplicaApplies(
        t.kv,
        SUBJECTS.checksumVerified,
        event(SUBJECTS.checksumVerified, U1, 2),
      );
    };

    await t.apply(SUBJECTS.validated, event(SUBJECTS.validated, U1, 3));

    const view = await t.view(U1);
    expect(view?.state).toBe('validated');
    expect(view?.history.map((h) => h.state)).toEqual([
      'imported',
      'checksum-verified',
      'validated',
    ]);
  });

  it('writes the projection again with the newer view when the revision moved meanwhile', async () => {
    const t = setup();
    // Between this replica's projection write and its re-check, another replica publishes.
    t.projection.afterWrite = (round) =>
      round === 1
        ? otherReplicaApplies(t.kv, SUBJECTS.published, event(SUBJECTS.published, U1, 4))
        : undefined;

    await t.apply(
      SUBJECTS.validated,
      event(SUBJECTS.validated, U1, 3),
      event(SUBJECTS.validated, U2, 3),
    );

    expect(t.projection.writes).toHaveLength(2);
    const [first, second] = t.projection.writes;
    expect(first.map((w) => w.view.id).sort()).toEqual([U1, U2]);
    // Only the view that moved is written again, as it is now.
    const latest = await t.kv.get(U1);
    expect(second).toEqual([{ view: latest?.value, revision: latest?.revision }]);
    expect(second[0].view.state).toBe('published');
    expect(second[0].revision).toBeGreaterThan(first.find((w) => w.view.id === U1)!.revision);
  });

  it('gives up re-projecting a view that never stops moving after five rounds', async () => {
    const t = setup();
    t.projection.afterWrite = async (round) => {
      const current = (await t.kv.get(U1))!.value;
      t.kv.set(U1, {
        ...current,
        updatedAt: new Date(Date.UTC(2026, 2, 1, 12, round)).toISOString(),
      });
    };
    await t.apply(SUBJECTS.imported, event(SUBJECTS.imported, U1, 1));
    expect(t.projection.writes).toHaveLength(5);
  });

  it('retries the items of an update whose view could not be written; the others go on', async () => {
    const t = setup();
    t.kv.beforeWrite = (key) => {
      if (key === U1) throw new Error('KV unavailable');
    };
    const verdicts = await t.apply(
      SUBJECTS.imported,
      event(SUBJECTS.imported, U1, 1),
      event(SUBJECTS.imported, U2, 1),
      event(SUBJECTS.imported, U1, 1, 'another-u1'),
    );
    expect(verdicts.map((v) => v.outcome)).toEqual(['retry', 'ack', 'retry']);
    expect(verdicts[0]).toMatchObject({ error: { message: 'KV unavailable' } });
    expect(await t.view(U1)).toBeUndefined();
    expect(t.projection.writes).toEqual([
      [expect.objectContaining({ view: expect.objectContaining({ id: U2 }) })],
    ]);
  });
});

describe('UpdateViewService.get', () => {
  it('returns the detail without the internal rank and createdAt', async () => {
    const t = setup();
    await t.apply(SUBJECTS.imported, event(SUBJECTS.imported, U1, 1));
    await t.apply(SUBJECTS.validated, event(SUBJECTS.validated, U1, 3));
    await t.apply(SUBJECTS.rejected, event(SUBJECTS.rejected, U1, 5));
    const stored = (await t.view(U1))!;

    const detail = await t.service.get(U1);

    expect(detail).toEqual({
      id: U1,
      ...RELAY,
      size: 42,
      state: 'rejected',
      rejection: { stage: 'signature', code: 'untrusted-signer', reason: 'no trust anchor' },
      signer: SIGNER,
      updatedAt: stored.updatedAt,
      history: stored.history,
    });
    expect(detail).not.toHaveProperty('rank');
    expect(detail).not.toHaveProperty('createdAt');
  });

  it('leaves out what is not known of a feed-stage rejection', async () => {
    const t = setup();
    const rejection = buildEvent(
      SUBJECTS.rejected,
      {
        updateId: U2,
        stage: 'feed',
        code: 'invalid-entry',
        reason: 'invalid feed entry',
        entry: { kind: 'security', component: 'firewall-rules', version: '26-001' },
        rejectedAt: '2026-03-01T10:00:00.000Z',
      },
      { id: eventId(SUBJECTS.rejected, U2), source: '/services/ingest', subject: U2 },
    );
    await t.apply(SUBJECTS.rejected, rejection);
    const detail = await t.service.get(U2);
    expect(detail).toMatchObject({
      kind: 'security',
      component: 'firewall-rules',
      state: 'rejected',
    });
    for (const absent of ['platform', 'sha256', 'size', 'signer'])
      expect(detail).not.toHaveProperty(absent);
  });

  it('throws NotFoundException for an unknown update', async () => {
    await expect(setup().service.get(U1)).rejects.toBeInstanceOf(NotFoundException);
  });
});

describe('UpdateViewService.list', () => {
  it('passes the query to the projection and maps its documents to items', async () => {
    const t = setup();
    const updatedAt = new Date('2026-03-01T10:00:07.000Z');
    const base = { rank: 1, revision: 3, createdAt: updatedAt, updatedAt };
    t.projection.docs = [
      {
        _id: U1,
        ...RELAY,
        size: 0, // a real size, not "unknown"
        state: 'validated',
        signer: SIGNER,
        ...base,
      },
      {
        _id: U2,
        kind: 'security',
        component: 'firewall-rules',
        version: '26-001',
        // What MongoDB hands back for a field it stored as null.
        size: null as unknown as number,
        state: 'rejected',
        rejection: { stage: 'feed', code: 'invalid-entry', reason: 'bad' },
        ...base,
      },
    ];
    const query: ListUpdatesQuery = { state: 'validated', limit: 10, offset: 20 };

    const listed = await t.service.list(query);

    expect(t.projection.queries).toEqual([query]);
    expect(listed).toEqual({
      total: 57,
      items: [
        {
          id: U1,
          ...RELAY,
          size: 0,
          state: 'validated',
          signer: SIGNER,
          updatedAt: '2026-03-01T10:00:07.000Z',
        },
        {
          id: U2,
          kind: 'security',
          component: 'firewall-rules',
          version: '26-001',
          state: 'rejected',
          rejection: { stage: 'feed', code: 'invalid-entry', reason: 'bad' },
          updatedAt: '2026-03-01T10:00:07.000Z',
        },
      ],
    });
  });
});

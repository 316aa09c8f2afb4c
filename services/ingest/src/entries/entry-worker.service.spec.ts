import {
  buildEvent,
  entryWorkId,
  SUBJECTS,
  type EventData,
  type UpdateDescriptor,
} from '@sup/contracts';
import {
  BlobBeingDeletedError,
  countOf,
  newSync,
  startSync,
  stopSync,
  recordEntries,
  type EntryResult,
  type SyncAggregate,
} from '@sup/domain';
import { EventBatch, type BatchItem, type OutgoingEvent } from '@sup/jetstream';
import { decision, type Announcement, type Outbox } from '@sup/service-kit';
import { MemoryVersionedStore } from '@sup/testing';
import type { FeedSource } from '@sup/feed';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import type { ImportRecord, ImportRepository } from '../state/import.repository';
import type { SyncRequests } from '../syncs/sync-requests.service';
import { EntryFetchError, type EntryImport, type EntryImporter } from './entry-importer.service';
import { EntryWorker } from './entry-worker.service';

type Item = BatchItem<typeof SUBJECTS.entryRequested>;

const SYNC = 'sync_aaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER_SYNC = 'sync_bbbbbbbbbbbbbbbbbbbbbbbb';
const FEED_URL = 'https://feeds.example/acme/';
const FEED = 'acme';
const SEQUENCE = 7;
const FUTURE = '2100-01-01T00:00:00.000Z';
const PAST = '2000-01-01T00:00:00.000Z';

const updateIdOf = (syncId: string, index: number) =>
  `upd_${syncId.slice(5, 17)}${index.toString(16).padStart(12, '0')}`;

/** What the importer makes of an entry: a record and event for new verdicts, only an event else. */
function imported(syncId: string, index: number, result: EntryResult): EntryImport {
  const id = updateIdOf(syncId, index);
  const sha = index.toString(16).padStart(64, '0');
  const update: UpdateDescriptor = {
    updateId: id,
    kind: 'security',
    component: 'firewall-rules',
    version: `26-${index.toString().padStart(3, '0')}`,
    source: { type: 'feed', feed: FEED, sequence: SEQUENCE, url: FEED_URL, syncId },
    artifact: { path: `fw/${index}.bin`, size: 1, sha256: sha, storeKey: sha },
    signature: { path: `fw/${index}.p7s`, format: 'cms-detached-der', storeKey: sha },
  };
  const at = '2026-03-01T10:00:00.000Z';
  if (result === 'rejected') {
    const data: EventData<typeof SUBJECTS.rejected> = {
      updateId: id,
      stage: 'feed',
      code: 'too-large',
      reason: 'too large',
      entry: { kind: 'security' },
      rejectedAt: at,
    };
    return {
      result,
      record: {
        _id: id,
        state: 'rejected',
        event: data,
        storeKeys: [],
        syncId,
        createdAt: new Date(at),
      },
      events: [decision(SUBJECTS.rejected, id, data)],
    };
  }
  const data = { update, importedAt: at };
  const event = decision(SUBJECTS.imported, id, data);
  if (result === 'unchanged') return { result, events: [event] };
  return {
    result,
    record: {
      _id: id,
      state: 'imported',
      event: data,
      storeKeys: [sha],
      syncId,
      createdAt: new Date(at),
    },
    events: [event],
  };
}

/** The importer, scripted per entry (by the sync and index the test puts in it): a result or a throw. */
class FakeImporter {
  private readonly script = new Map<string, EntryImport | Error>();
  readonly calls: { entry: Record<string, unknown>; feed: FeedSource; origin: unknown }[] = [];

  /** Scripts entries 0, 1, … of `syncId` in order: a result (see `imported`) or an error to throw. */
  resultsOf(syncId: string, ...outcomes: (EntryResult | Error)[]): this {
    outcomes.forEach((o, i) =>
      this.set(syncId, i, o instanceof Error ? o : imported(syncId, i, o)),
    );
    return this;
  }

  results(...outcomes: (EntryResult | Error)[]): this {
    return this.resultsOf(SYNC, ...outcomes);
  }

  set(syncId: string, index: number, outcome: EntryImport | Error): this {
    this.script.set(`${syncId}/${index}`, outcome);
    return this;
  }

  importEntry(
    entry: Record<string, unknown>,
    feed: FeedSource,
    origin: unknown,
  ): Promise<EntryImport> {
    this.calls.push({ entry, feed, origin });
    const at = `${String(entry.syncId)}/${String(entry.n)}`;
    const scripted = this.script.get(at);
    if (scripted === undefined) return Promise.reject(new Error(`no script for entry ${at}`));
    return scripted instanceof Error ? Promise.reject(scripted) : Promise.resolve(scripted);
  }
}

/** Import records in memory, insert-once by id: an id stored before is reported as existing. */
class FakeImports {
  readonly stored = new Map<string, ImportRecord>();
  readonly batches: string[][] = [];

  insertNew(records: ImportRecord[]): Promise<Set<string>> {
    this.batches.push(records.map((r) => r._id));
    const existed = new Set<string>();
    for (const r of records) {
      if (this.stored.has(r._id)) existed.add(r._id);
      else this.stored.set(r._id, r);
    }
    return Promise.resolve(existed);
  }
}

/** An outbox that announces each event with the state the test chose for it (default: published). */
class FakeOutbox {
  readonly states = new Map<string, Announcement['state']>();
  readonly calls: string[][] = [];

  announce(events: readonly OutgoingEvent[]): Promise<Announcement[]> {
    this.calls.push(events.map((e) => e.entityId));
    return Promise.resolve(
      events.map((e): Announcement => {
        const state = this.states.get(e.entityId) ?? 'published';
        return state === 'published'
          ? { state, duplicate: false }
          : { state, error: new Error(`announcing ${e.entityId}: ${state}`) };
      }),
    );
  }
}

function setup(...syncs: { id: string; total: number }[]) {
  const kv = new MemoryVersionedStore<SyncAggregate>('ingest_syncs');
  const at = new Date('2026-03-01T10:00:00.000Z');
  for (const { id, total } of syncs) {
    const sync = startSync(
      newSync(id, FEED_URL, at, 3_600_000),
      { feed: FEED, sequence: SEQUENCE, total },
      at,
    );
    if (sync) kv.set(id, sync);
  }
  const importer = new FakeImporter();
  const imports = new FakeImports();
  const outbox = new FakeOutbox();
  const feedSource = { baseUrl: FEED_URL } as FeedSource;
  const requested: string[] = [];
  const requests = {
    feedSource: (url: string) => {
      requested.push(url);
      return feedSource;
    },
  };
  const warnings: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (_: object, message: string) => warnings.push(message),
  };
  const worker = new EntryWorker(
    kv.asStore(),
    { importConcurrency: 4 } as IngestConfig,
    logger as unknown as Logger,
    outbox as unknown as Outbox,
    importer as unknown as EntryImporter,
    imports as unknown as ImportRepository,
    requests as unknown as SyncRequests,
  );

  /** Runs one batch as the transport would and returns each item's verdict. */
  const run = async (...items: Item[]) => {
    const batch = new EventBatch(SUBJECTS.entryRequested, items);
    await worker.importBatch(batch);
    return items.map((i) => batch.verdictOf(i));
  };
  const sync = async (id = SYNC) => {
    const found = await kv.get(id);
    if (!found) throw new Error(`no sync ${id}`);
    return found.value;
  };
  return { kv, importer, imports, outbox, requested, feedSource, warnings, run, sync };
}

function item(
  index: number,
  options: { syncId?: string; total?: number; deadline?: string; finalAttempt?: boolean } = {},
): Item {
  const syncId = options.syncId ?? SYNC;
  const data: EventData<typeof SUBJECTS.entryRequested> = {
    syncId,
    index,
    total: options.total ?? 3,
    feed: FEED,
    sequence: SEQUENCE,
    url: FEED_URL,
    entry: { n: index, syncId },
    deadline: options.deadline ?? FUTURE,
  };
  const entityId = entryWorkId(syncId, index);
  return {
    event: buildEvent(SUBJECTS.entryRequested, data, { id: entityId, source: '/services/ingest' }),
    subject: `${SUBJECTS.entryRequested}.${entityId}`,
    entityId,
    deliveryCount: options.finalAttempt ? 5 : 1,
    finalAttempt: options.finalAttempt ?? false,
  };
}

const ACK = { outcome: 'ack' };

describe('EntryWorker.importBatch', () => {
  it('folds the results into the sync, which completes with its last entry', async () => {
    const t = setup({ id: SYNC, total: 3 });
    t.importer.results('imported', 'unchanged', 'rejected');

    expect(await t.run(item(0), item(1), item(2))).toEqual([ACK, ACK, ACK]);

    const sync = await t.sync();
    expect(sync.state).toBe('completed');
    expect(sync.results).toBe('iur');
    // One bulk insert of the new records, one announcement of every event.
    expect(t.imports.batches).toEqual([[updateIdOf(SYNC, 0), updateIdOf(SYNC, 2)]]);
    expect(t.outbox.calls).toHaveLength(1);
    expect([...t.outbox.calls[0]].sort()).toEqual([0, 1, 2].map((i) => updateIdOf(SYNC, i)).sort());
    // One compare-and-set for the sync (besides the seed).
    expect(t.kv.written).toEqual([SYNC, SYNC]);
  });

  it('imports each entry from the verified feed, naming where it came from', async () => {
    const t = setup({ id: SYNC, total: 3 });
    t.importer.set(SYNC, 1, imported(SYNC, 1, 'imported'));
    await t.run(item(1));
    expect(t.requested).toEqual([FEED_URL]);
    expect(t.importer.calls).toEqual([
      {
        entry: { n: 1, syncId: SYNC },
        feed: t.feedSource,
        origin: { type: 'feed', feed: FEED, sequence: SEQUENCE, url: FEED_URL, syncId: SYNC },
      },
    ]);
    const sync = await t.sync();
    expect(sync.state).toBe('running');
    expect(sync.results).toBe('.i.');
  });

  it('retries a transient failure on a non-final attempt and records nothing for it', async () => {
    const t = setup({ id: SYNC, total: 2 });
    t.importer.results('imported', new EntryFetchError('timeout', 'the feed did not answer'));

    const verdicts = await t.run(item(0), item(1));

    expect(verdicts[0]).toEqual(ACK);
    expect(verdicts[1]).toMatchObject({
      outcome: 'retry',
      error: { message: 'the feed did not answer' },
    });
    const sync = await t.sync();
    expect(sync.results).toBe('i.');
    expect(sync.state).toBe('running');
    expect(t.warnings).toEqual([expect.stringContaining('feed entry 1 not imported yet')]);
  });

  it.each<[string, Error, string]>([
    [
      'an EntryFetchError: its code',
      new EntryFetchError('artifact-missing', '404 Not Found'),
      'artifact-missing',
    ],
    ['bytes being deleted', new BlobBeingDeletedError('a'.repeat(64)), 'bytes-being-deleted'],
    ['any other error', new Error('disk full'), 'import-error'],
  ])('on the final attempt records a failure as failed with %s', async (_, error, code) => {
    const t = setup({ id: SYNC, total: 2 });
    t.importer.results('imported', error);

    // No retry follows: the entry is settled by recording it as failed.
    expect(await t.run(item(0), item(1, { finalAttempt: true }))).toEqual([ACK, ACK]);

    const sync = await t.sync();
    expect(sync.state).toBe('failed');
    expect(sync.reason).toBe('1 of 2 entries could not be imported');
    expect(sync.failures).toEqual([{ index: 1, code, reason: error.message }]);
  });

  it('acks the entries of a terminal sync without importing them', async () => {
    const t = setup({ id: SYNC, total: 3 });
    const before = await t.kv.get(SYNC);
    t.kv.set(SYNC, stopSync(before!.value, 'failed', 'deadline passed', new Date())!);
    const revision = (await t.kv.get(SYNC))?.revision;

    expect(await t.run(item(0), item(1))).toEqual([ACK, ACK]);

    expect(t.importer.calls).toEqual([]);
    expect((await t.kv.get(SYNC))?.revision).toBe(revision);
  });

  it('acks the entries of a sync that does not exist (expired from the bucket)', async () => {
    const t = setup();
    expect(await t.run(item(0))).toEqual([ACK]);
    expect(t.importer.calls).toEqual([]);
    expect(await t.kv.keys()).toEqual([]);
  });

  it('acks an entry already recorded (a redelivery) without importing it again', async () => {
    const t = setup({ id: SYNC, total: 3 });
    const current = (await t.kv.get(SYNC))!.value;
    t.kv.set(SYNC, recordEntries(current, [{ index: 1, result: 'imported' }], new Date())!);
    t.importer.results('unchanged');

    expect(await t.run(item(0), item(1))).toEqual([ACK, ACK]);

    expect(t.importer.calls.map((c) => c.entry.n)).toEqual([0]);
    expect((await t.sync()).results).toBe('ui.');
  });

  it('records an entry past its deadline as failed without fetching it', async () => {
    const t = setup({ id: SYNC, total: 2 });
    t.importer.results('imported');

    expect(await t.run(item(0), item(1, { deadline: PAST }))).toEqual([ACK, ACK]);

    expect(t.importer.calls.map((c) => c.entry.n)).toEqual([0]);
    const sync = await t.sync();
    expect(sync.state).toBe('failed');
    expect(sync.failures).toEqual([
      {
        index: 1,
        code: 'deadline',
        reason: 'the sync deadline passed before this entry was imported',
      },
    ]);
  });

  it('counts an entry as unchanged when another sync recorded the update first', async () => {
    const t = setup({ id: SYNC, total: 2 });
    t.importer.results('imported', 'rejected');
    // Inserted meanwhile by another replica: the first record stands.
    const mine = imported(SYNC, 0, 'imported').record!;
    t.imports.stored.set(mine._id, { ...mine, syncId: OTHER_SYNC });

    expect(await t.run(item(0), item(1))).toEqual([ACK, ACK]);

    const sync = await t.sync();
    expect(sync.results).toBe('ur');
    expect(countOf(sync, 'unchanged')).toBe(1);
    // Its event is announced all the same: the stream keeps whichever came first.
    expect(t.outbox.calls[0]).toContain(updateIdOf(SYNC, 0));
  });

  it("retries an entry whose event could go nowhere ('failed') and leaves it pending", async () => {
    const t = setup({ id: SYNC, total: 3 });
    t.importer.results('imported', 'imported', 'imported');
    t.outbox.states.set(updateIdOf(SYNC, 1), 'failed').set(updateIdOf(SYNC, 2), 'deferred');

    const verdicts = await t.run(item(0), item(1), item(2));

    expect(verdicts.map((v) => v.outcome)).toEqual(['ack', 'retry', 'ack']);
    expect(verdicts[1]).toMatchObject({
      error: { message: `announcing ${updateIdOf(SYNC, 1)}: failed` },
    });
    // Deferred is settled (the outbox will publish it); failed is not folded in.
    expect((await t.sync()).results).toBe('i.i');

    // The retry: the record was written before the announcement failed, so the importer finds
    // it (this sync's own import) and only announces it again; now that gets through.
    expect(t.imports.stored.has(updateIdOf(SYNC, 1))).toBe(true);
    t.importer.set(SYNC, 1, { result: 'imported', events: imported(SYNC, 1, 'imported').events });
    t.outbox.states.clear();
    expect(await t.run(item(1))).toEqual([ACK]);
    const sync = await t.sync();
    expect(sync.results).toBe('iii');
    expect(sync.state).toBe('completed');
  });

  it('folds each sync of a mixed batch with one compare-and-set', async () => {
    const t = setup({ id: SYNC, total: 2 }, { id: OTHER_SYNC, total: 1 });
    t.importer.results('imported', 'unchanged');
    t.importer.resultsOf(OTHER_SYNC, 'rejected');
    const verdicts = await t.run(item(0), item(0, { syncId: OTHER_SYNC, total: 1 }), item(1));
    expect(verdicts).toEqual([ACK, ACK, ACK]);
    expect(await t.sync(SYNC)).toMatchObject({ state: 'completed', results: 'iu' });
    expect(await t.sync(OTHER_SYNC)).toMatchObject({ state: 'completed', results: 'r' });
    // After the two seeds: one write per sync, however many of its entries were in the batch.
    expect(t.kv.written.slice(2).sort()).toEqual([SYNC, OTHER_SYNC].sort());
  });

  it('retries every entry of a sync whose progress could not be written', async () => {
    const t = setup({ id: SYNC, total: 3 });
    t.importer.results('imported', 'imported');
    t.kv.beforeWrite = () => {
      throw new Error('KV unavailable');
    };
    const verdicts = await t.run(item(0), item(1));
    expect(verdicts.map((v) => v.outcome)).toEqual(['retry', 'retry']);
    expect((await t.sync()).results).toBe('...');
  });

  it('folds in what another replica recorded meanwhile instead of overwriting it', async () => {
    const t = setup({ id: SYNC, total: 3 });
    t.importer.results('imported');
    let raced = false;
    t.kv.beforeWrite = async (key) => {
      if (raced) return;
      raced = true;
      const theirs = (await t.kv.get(key))!.value;
      t.kv.set(key, recordEntries(theirs, [{ index: 2, result: 'rejected' }], new Date())!);
    };
    expect(await t.run(item(0))).toEqual([ACK]);
    expect((await t.sync()).results).toBe('i.r');
  });

  it('changes nothing when the same batch is delivered again', async () => {
    const t = setup({ id: SYNC, total: 2 });
    t.importer.results('imported', 'rejected');
    await t.run(item(0), item(1));
    const after = await t.kv.get(SYNC);
    const calls = t.importer.calls.length;

    expect(await t.run(item(0), item(1))).toEqual([ACK, ACK]);

    expect(t.importer.calls).toHaveLength(calls);
    expect(await t.kv.get(SYNC)).toEqual(after);
  });
});

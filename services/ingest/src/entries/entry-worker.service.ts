import { Inject, Injectable } from '@nestjs/common';
import type { SUBJECTS } from '@sup/contracts';
import {
  BlobBeingDeletedError,
  entryDone,
  isTerminal,
  recordEntries,
  type EntryOutcome,
  type SyncAggregate,
} from '@sup/domain';
import type { FeedSource } from '@sup/feed';
import type { BatchItem, EventBatch, OutgoingEvent } from '@sup/jetstream';
import { mapLimited, Outbox, ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import { ImportRepository } from '../state/import.repository';
import { SYNC_STORE, type SyncStore } from '../state/kv-stores';
import { SyncRequests } from '../syncs/sync-requests.service';
import { EntryFetchError, EntryImporter, type EntryImport } from './entry-importer.service';

type Item = BatchItem<typeof SUBJECTS.entryRequested>;

/**
 * Imports a batch of feed entries, from any number of syncs, on whichever replica pulled them:
 * entries are fetched in parallel, their records written in one bulk insert, their events
 * announced together, and each sync's progress folded in with one compare-and-set.
 */
@Injectable()
export class EntryWorker {
  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(Outbox) private readonly outbox: Outbox,
    private readonly importer: EntryImporter,
    private readonly imports: ImportRepository,
    private readonly requests: SyncRequests,
  ) {}

  async importBatch(batch: EventBatch<typeof SUBJECTS.entryRequested>): Promise<void> {
    const syncs = await this.loadSyncs(batch.items);
    // One feed reader per feed URL in the batch, not one per entry.
    const feeds = new Map<string, FeedSource>();
    const feedFor = (url: string): FeedSource => {
      let feed = feeds.get(url);
      if (!feed) feeds.set(url, (feed = this.requests.feedSource(url)));
      return feed;
    };
    const now = new Date();
    const done: { item: Item; outcome: EntryOutcome; imported?: EntryImport }[] = [];
    await mapLimited(batch.items, this.config.importConcurrency, async (item) => {
      const { syncId, index, deadline, entry, url, feed, sequence } = item.event.data;
      const sync = syncs.get(syncId);
      if (!sync || isTerminal(sync) || entryDone(sync, index)) return; // nothing left to do: ack
      if (now.getTime() > Date.parse(deadline)) {
        const reason = 'the sync deadline passed before this entry was imported';
        done.push({ item, outcome: { index, result: 'failed', code: 'deadline', reason } });
        return;
      }
      try {
        const origin = { type: 'feed' as const, feed, sequence, url, syncId };
        const imported = await this.importer.importEntry(entry, feedFor(url), origin);
        done.push({ item, outcome: { index, result: imported.result }, imported });
      } catch (error) {
        const failure = this.onFailure(batch, item, error);
        if (failure) done.push({ item, outcome: failure });
      }
    });

    const records = done.flatMap((d) => (d.imported?.record ? [d.imported.record] : []));
    const existed = await this.imports.insertNew(records);
    const announced: { item: Item; events: OutgoingEvent[] }[] = done.map((d) => {
      // Another replica or sync recorded the same update meanwhile: its record and event stand.
      if (d.imported?.record && existed.has(d.imported.record._id)) d.outcome.result = 'unchanged';
      return { item: d.item, events: d.imported?.events ?? [] };
    });
    const results = await this.outbox.announce(announced.flatMap((a) => a.events));
    let at = 0;
    const settled = done.filter((d, i) => {
      const mine = results.slice(at, (at += announced[i].events.length));
      const failed = mine.find((r) => r.state === 'failed');
      if (failed && failed.state === 'failed') batch.retry(d.item, failed.error);
      return !failed;
    });
    await this.fold(batch, settled);
  }

  private async loadSyncs(items: readonly Item[]): Promise<Map<string, SyncAggregate>> {
    const ids = [...new Set(items.map((i) => i.event.data.syncId))];
    const found = await Promise.all(ids.map((id) => this.syncs.get(id)));
    return new Map(found.flatMap((f, i) => (f ? [[ids[i], f.value] as const] : [])));
  }

  /** A failed attempt: retried while attempts remain, then recorded on the sync without a verdict. */
  private onFailure(
    batch: EventBatch<typeof SUBJECTS.entryRequested>,
    item: Item,
    error: unknown,
  ): EntryOutcome | undefined {
    const err = error instanceof Error ? error : new Error(String(error));
    const { syncId, index } = item.event.data;
    if (!item.finalAttempt) {
      this.logger.warn(
        { syncId, correlationId: syncId, index, attempt: item.deliveryCount, err },
        `feed entry ${index} not imported yet; retrying: ${err.message}`,
      );
      batch.retry(item, err);
      return undefined;
    }
    const code =
      err instanceof EntryFetchError
        ? err.code
        : err instanceof BlobBeingDeletedError
          ? 'bytes-being-deleted'
          : 'import-error';
    return { index, result: 'failed', code, reason: err.message };
  }

  /** Folds outcomes into each sync: one compare-and-set per sync and batch. */
  private async fold(
    batch: EventBatch<typeof SUBJECTS.entryRequested>,
    done: { item: Item; outcome: EntryOutcome }[],
  ): Promise<void> {
    const bySync = new Map<string, { item: Item; outcome: EntryOutcome }[]>();
    for (const d of done) {
      const id = d.item.event.data.syncId;
      bySync.set(id, [...(bySync.get(id) ?? []), d]);
    }
    await Promise.all(
      [...bySync].map(async ([syncId, entries]) => {
        try {
          const after = await this.syncs.update(syncId, (cur) =>
            cur
              ? recordEntries(
                  cur.value,
                  entries.map((e) => e.outcome),
                  new Date(),
                )
              : undefined,
          );
          if (after && isTerminal(after.value) && entries.length) {
            this.logger.info(
              {
                syncId,
                correlationId: syncId,
                state: after.value.state,
                reason: after.value.reason,
              },
              `feed sync ${after.value.state}`,
            );
          }
        } catch (error) {
          for (const e of entries) batch.retry(e.item, error as Error);
        }
      }),
    );
  }
}

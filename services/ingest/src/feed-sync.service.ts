import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { newSyncId, SUBJECTS, type FeedIndex } from '@sup/contracts';
import { FeedError, FeedSource } from '@sup/feed';
import { CmsVerificationError, verifyDetachedCms } from '@sup/integrity';
import { EventPublisher } from '@sup/jetstream';
import { KeyedMutex, ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import type { IngestConfig } from './config';
import { EntryImporter, type EntryResult } from './entry-importer.service';
import { feedFreshness } from './feed-freshness';
import { FeedStateStore } from './feed-state.store';
import { SYNC_MODEL, type SyncRecord } from './schemas';

/** A sync that cannot go on; `refused` means the feed itself is not trustworthy, `failed` that it could not be read. */
class SyncStop extends Error {
  constructor(
    readonly state: 'refused' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

const TERMINAL = new Set(['completed', 'refused', 'failed']);
/** Progress reaches the sync record at most this often; the final counts are written at the end. */
const PROGRESS_EVERY_MS = 250;

@Injectable()
export class FeedSyncService {
  /** One writer per sync document at a time (FerretDB loses concurrent updates; see KeyedMutex). */
  private readonly writes = new KeyedMutex();

  constructor(
    @InjectModel(SYNC_MODEL) private readonly syncs: Model<SyncRecord>,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly publisher: EventPublisher,
    private readonly importer: EntryImporter,
    private readonly feedStates: FeedStateStore,
  ) {}

  feedSource(url: string): FeedSource {
    return FeedSource.parse(url, {
      hardMaxBytes: this.config.maxArtifactBytes,
      timeoutMs: this.config.feedTimeoutMs,
    });
  }

  /** Records the request and queues it on JetStream; the work happens in `run`, on whichever replica takes it. */
  async request(url: string, syncId = newSyncId()): Promise<string> {
    this.feedSource(url); // bad URLs fail here, before anything is recorded
    await this.syncs
      .updateOne(
        { _id: syncId },
        {
          $setOnInsert: {
            url,
            state: 'running',
            imported: 0,
            unchanged: 0,
            rejected: 0,
            requestedAt: new Date(),
          },
        },
        { upsert: true },
      )
      .exec();
    await this.publisher.publish(
      SUBJECTS.syncRequested,
      { syncId, url, requestedAt: new Date().toISOString() },
      { id: `${syncId}:${SUBJECTS.syncRequested}`, subject: syncId },
    );
    return syncId;
  }

  find(syncId: string): Promise<SyncRecord | null> {
    return this.syncs.findById(syncId).lean().exec();
  }

  /**
   * Runs one sync to the end. Safe to run again after a crash: entries already recorded are
   * skipped and counted as before. Transient read errors throw, so JetStream redelivers; on the
   * last attempt (`finalAttempt`) they fail the sync instead.
   */
  async run(syncId: string, url: string, finalAttempt: boolean): Promise<void> {
    const sync = await this.find(syncId);
    if (sync && TERMINAL.has(sync.state)) return;
    await this.syncs
      .updateOne(
        { _id: syncId },
        {
          $set: {
            url,
            state: 'running',
            imported: 0,
            unchanged: 0,
            rejected: 0,
            startedAt: new Date(),
          },
          $setOnInsert: { requestedAt: new Date() },
        },
        { upsert: true },
      )
      .exec();
    try {
      const feed = this.feedSource(url);
      const { index, digest } = await this.readTrustedIndex(feed);
      await this.syncs
        .updateOne(
          { _id: syncId },
          { $set: { feed: index.feed, sequence: index.sequence, total: index.updates.length } },
        )
        .exec();
      const origin = {
        type: 'feed' as const,
        feed: index.feed,
        sequence: index.sequence,
        url: feed.baseUrl,
        syncId,
      };
      const counts: Record<EntryResult, number> = { imported: 0, unchanged: 0, rejected: 0 };
      let reported = 0;
      await forEachLimited(index.updates, this.config.importConcurrency, async (raw) => {
        counts[await this.importer.importEntry(raw, feed, origin)]++;
        if (Date.now() - reported < PROGRESS_EVERY_MS) return;
        reported = Date.now();
        await this.write(syncId, () => ({ $set: { ...counts } }));
      });
      await this.feedStates.accept(index.feed, index.sequence, digest);
      await this.finish(syncId, 'completed', undefined, counts);
      this.logger.info(
        { syncId, correlationId: syncId, feed: index.feed, sequence: index.sequence },
        'feed sync completed',
      );
    } catch (error) {
      if (error instanceof SyncStop) {
        this.logger.warn(
          { syncId, correlationId: syncId, url },
          `feed sync ${error.state}: ${error.message}`,
        );
        await this.finish(syncId, error.state, error.message);
        return;
      }
      if (!finalAttempt) throw error;
      await this.finish(
        syncId,
        'failed',
        `gave up after repeated errors: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async readTrustedIndex(feed: FeedSource): Promise<{ index: FeedIndex; digest: string }> {
    let read: Awaited<ReturnType<FeedSource['readIndex']>>;
    try {
      read = await feed.readIndex();
    } catch (error) {
      if (error instanceof FeedError) {
        throw new SyncStop(error.code === 'malformed-index' ? 'refused' : 'failed', error.message);
      }
      throw error;
    }
    try {
      await verifyDetachedCms({
        signature: read.signatureBytes,
        content: () => Readable.from([read.indexBytes]),
        trustAnchors: this.config.trustAnchors,
        extraCertificates: this.config.intermediates,
      });
    } catch (error) {
      if (error instanceof CmsVerificationError) {
        throw new SyncStop(
          'refused',
          `index.json signature does not verify (${error.code}): ${error.message}`,
        );
      }
      throw error;
    }
    const digest = createHash('sha256').update(read.indexBytes).digest('hex');
    const problem = feedFreshness(
      read.index,
      digest,
      await this.feedStates.get(read.index.feed),
      new Date(),
    );
    if (problem) throw new SyncStop('refused', problem);
    return { index: read.index, digest };
  }

  /** Progress is written as absolute values, built when the write runs, so the last write is the latest state. */
  private write(syncId: string, update: () => Record<string, unknown>): Promise<void> {
    return this.writes.run(syncId, async () => {
      await this.syncs.updateOne({ _id: syncId }, update()).exec();
    });
  }

  private finish(
    syncId: string,
    state: SyncRecord['state'],
    reason?: string,
    counts?: Record<EntryResult, number>,
  ): Promise<void> {
    return this.write(syncId, () => ({
      $set: { state, finishedAt: new Date(), ...(reason ? { reason } : {}), ...counts },
    }));
  }
}

async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]);
  });
  await Promise.all(workers);
}

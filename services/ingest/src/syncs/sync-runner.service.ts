import { Inject, Injectable } from '@nestjs/common';
import { entryWorkId, SUBJECTS, type FeedIndex } from '@sup/contracts';
import { newSync, startSync, stopSync, type SyncAggregate } from '@sup/domain';
import { FeedError, type FeedErrorCode, type FeedIndexFiles, type FeedSource } from '@sup/feed';
import { EventPublisher } from '@sup/jetstream';
import { decision, ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import { SYNC_STORE, type SyncStore } from '../state/kv-stores';
import { IndexRefusal, SignedIndexVerifier, type TrustedIndex } from '../trust/signed-index';
import { SyncRequests } from './sync-requests.service';

/** A sync that cannot go on: `refused` (the feed is not trustworthy) or `failed` (unreadable). */
class SyncStop extends Error {
  constructor(
    readonly state: 'refused' | 'failed',
    message: string,
    /** For the log only: what the sync status does not say. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** URL policy refusals: the request (or a redirect) broke a rule; another attempt cannot help. */
const URL_RULES = new Set<FeedErrorCode>([
  'bad-url',
  'url-not-allowed',
  'scheme-not-allowed',
  'address-not-allowed',
  'too-many-redirects',
]);

/** Feed errors worth another attempt: the network, the server, a file not there yet. */
const TRANSIENT_FEED_ERRORS = new Set<FeedErrorCode>([
  'unreachable',
  'timeout',
  'http-error',
  'not-found',
]);

/**
 * Runs a requested sync as far as its fan-out: reads and verifies the signed index once, then
 * queues one work message per entry, which replicas of ingest import in parallel (EntryWorker).
 */
@Injectable()
export class SyncRunner {
  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly requests: SyncRequests,
    private readonly signedIndex: SignedIndexVerifier,
    private readonly publisher: EventPublisher,
  ) {}

  /**
   * Safe to run again: a sync already fanned out has its entries queued again (deduplicated by
   * message id, and recording an entry twice changes nothing). Transient read errors throw, so
   * JetStream redelivers; on the final attempt they fail the sync instead.
   */
  async run(
    syncId: string,
    url: string,
    requestedAt: string,
    finalAttempt: boolean,
  ): Promise<void> {
    const sync =
      (await this.syncs.get(syncId))?.value ?? (await this.recreate(syncId, url, requestedAt));
    if (sync.state !== 'requested' && sync.state !== 'running') return;
    try {
      if (sync.state === 'running') return await this.fanOut(sync);
      const { feed, trusted } = await this.readTrustedIndex(url, finalAttempt);
      await this.signedIndex.accept(trusted);
      const { index } = trusted;
      const started = await this.syncs.update(syncId, (cur) =>
        cur
          ? startSync(cur.value, { ...index, total: index.updates.length }, new Date())
          : undefined,
      );
      if (started?.value.state !== 'running') return;
      await this.fanOut(started.value, index, feed.baseUrl);
      this.logger.info(
        { syncId, correlationId: syncId, feed: index.feed, entries: index.updates.length },
        'feed index verified; entries queued',
      );
    } catch (error) {
      if (!(error instanceof SyncStop)) throw error;
      this.logger.warn(
        { syncId, correlationId: syncId, url, detail: error.detail },
        `feed sync ${error.state}: ${error.message}`,
      );
      await this.syncs.update(syncId, (cur) =>
        cur ? stopSync(cur.value, error.state, error.message, new Date()) : undefined,
      );
    }
  }

  /** A sync message whose record is gone (expired from the bucket) is recorded again to be run. */
  private async recreate(syncId: string, url: string, requestedAt: string): Promise<SyncAggregate> {
    const fresh = newSync(syncId, url, new Date(requestedAt), this.config.syncDeadlineMs);
    await this.syncs.create(syncId, fresh);
    return (await this.syncs.get(syncId))?.value ?? fresh;
  }

  private async fanOut(sync: SyncAggregate, index?: FeedIndex, baseUrl?: string): Promise<void> {
    if (!index) {
      // A redelivery after the fan-out began: read the (already accepted) index again to re-queue.
      const { feed, trusted } = await this.readTrustedIndex(sync.url, false, true);
      ({ index } = trusted);
      baseUrl = feed.baseUrl;
      if (index.sequence !== sync.sequence || index.updates.length !== sync.total) {
        // The feed moved on since; its entries are not this sync's. The sweeper closes the sync
        // at its deadline if some of its entries never got queued.
        this.logger.warn(
          { syncId: sync.id, correlationId: sync.id, sequence: index.sequence },
          'feed index changed since the sync fanned out; entries not re-queued',
        );
        return;
      }
    }
    const entries = index.updates.map((entry, i) =>
      decision(SUBJECTS.entryRequested, entryWorkId(sync.id, i), {
        syncId: sync.id,
        index: i,
        total: index.updates.length,
        feed: index.feed,
        sequence: index.sequence,
        url: baseUrl ?? sync.url,
        entry,
        deadline: sync.deadline,
      }),
    );
    const outcomes = await this.publisher.publishAll(entries);
    const failed = outcomes.find((o) => !o.ok);
    if (failed && !failed.ok) throw failed.error;
  }

  /**
   * Reads the index files (bounded) and passes them through the signed-index gate. A URL rule
   * refuses the sync; a feed that cannot be read fails it, after retries for transient errors.
   */
  private async readTrustedIndex(
    url: string,
    finalAttempt: boolean,
    alreadyAccepted = false,
  ): Promise<{ feed: FeedSource; trusted: TrustedIndex }> {
    let feed: FeedSource;
    let files: FeedIndexFiles;
    try {
      feed = this.requests.feedSource(url);
      files = await feed.readIndex({
        indexMaxBytes: this.config.indexMaxBytes,
        signatureMaxBytes: this.config.indexSignatureMaxBytes,
      });
    } catch (error) {
      if (!(error instanceof FeedError)) throw error;
      if (URL_RULES.has(error.code))
        throw new SyncStop('refused', `${error.code}: ${error.message}`);
      if (TRANSIENT_FEED_ERRORS.has(error.code) && !finalAttempt) throw error;
      throw this.unreadable(url, error);
    }
    try {
      return { feed, trusted: await this.signedIndex.verify(files, { alreadyAccepted }) };
    } catch (error) {
      if (!(error instanceof IndexRefusal)) throw error;
      const cause = error.cause instanceof Error ? error.cause.message : undefined;
      throw new SyncStop('refused', error.message, cause);
    }
  }

  /**
   * Why a feed could not be read. For a URL from a request the answer is the same whatever
   * happened (missing file or directory, closed port, HTTP error page, a symlink out of the feed):
   * anything more would let a caller map files and ports. The detail goes to the log only, and
   * FeedError messages never hold what was read.
   */
  private unreadable(url: string, error: FeedError): SyncStop {
    if (error.code === 'too-large' || this.requests.isConfiguredFeed(url)) {
      return new SyncStop('failed', `${error.code}: ${error.message}`);
    }
    return new SyncStop(
      'failed',
      'feed-unreadable: index.json and index.json.p7s could not both be read from this URL',
      `${error.code}: ${error.message}`,
    );
  }
}

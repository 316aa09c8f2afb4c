import { Inject, Injectable } from '@nestjs/common';
import { newSyncId, SUBJECTS, type Actor, type SyncStatus } from '@sup/contracts';
import { newSync, syncStatus } from '@sup/domain';
import { FeedSource, FeedUrlPolicy, parseUrlPrefix, underPrefix, type UrlPrefix } from '@sup/feed';
import { AuditTrail, decision, Outbox, SERVICE_CONFIG } from '@sup/service-kit';
import type { IngestConfig } from '../config';
import { SYNC_STORE, type SyncStore } from '../state/kv-stores';

export class SyncNotQueuedError extends Error {
  constructor(syncId: string, cause: Error) {
    super(`sync ${syncId} was recorded but could not be queued: ${cause.message}`, { cause });
    this.name = 'SyncNotQueuedError';
  }
}

/** Accepting sync requests and reporting on them; the work itself is the runner's. */
@Injectable()
export class SyncRequests {
  /** FEED_URL: the operator's feed, trusted as configured (private addresses included). */
  private readonly configuredFeed?: UrlPrefix;
  private readonly policy: FeedUrlPolicy;

  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {
    const { feedUrl, allowedUrlPrefixes, allowFile } = config;
    this.configuredFeed = feedUrl ? parseUrlPrefix(feedUrl) : undefined;
    this.policy = new FeedUrlPolicy({
      allowed: allowedUrlPrefixes,
      trusted: this.configuredFeed ? [this.configuredFeed] : [],
      allowFile,
    });
  }

  /** A reader for `url`; FeedError named after the URL rule that refuses it. */
  feedSource(url: string): FeedSource {
    return FeedSource.parse(url, {
      hardMaxBytes: this.config.maxArtifactBytes,
      timeoutMs: this.config.feedTimeoutMs,
      policy: this.policy,
    });
  }

  /** Whether `url` is the configured feed (or under it), whose failures may be told in detail. */
  isConfiguredFeed(url: string): boolean {
    if (!this.configuredFeed || !URL.canParse(url)) return false;
    return underPrefix(new URL(url), this.configuredFeed);
  }

  /**
   * Records the sync (insert-once under its id) and queues it. A repeat with the same id (the
   * scheduler's time slots) records nothing new and queues nothing twice. `requestedBy` names
   * who asked (an API caller, or the service itself for a scheduled sync) on the event.
   */
  async request(url: string, requestedBy: Actor, syncId = newSyncId()): Promise<string> {
    this.feedSource(url); // bad URLs fail here, before anything is recorded
    const requestedAt = new Date();
    const scheduled = requestedBy.type === 'system';
    await this.syncs.create(
      syncId,
      newSync(syncId, url, requestedAt, this.config.syncDeadlineMs, scheduled),
    );
    const [announced] = await this.outbox.announce([
      decision(SUBJECTS.syncRequested, syncId, {
        syncId,
        url,
        requestedAt: requestedAt.toISOString(),
        requestedBy,
      }),
    ]);
    if (announced.state === 'failed') throw new SyncNotQueuedError(syncId, announced.error);
    // After the sync is queued: the audit log records what was accepted, under an id a retry repeats.
    await this.audit.record([
      {
        id: `feed-sync-requested-${syncId}`,
        action: 'feed-sync-requested',
        actor: requestedBy,
        target: syncId,
        outcome: 'accepted',
      },
    ]);
    return syncId;
  }

  async status(syncId: string): Promise<SyncStatus | undefined> {
    const found = await this.syncs.get(syncId);
    return found && syncStatus(found.value);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { newSyncId, SUBJECTS, type Actor, type SyncStatus } from '@sup/contracts';
import { newSync, syncStatus } from '@sup/domain';
import { FeedSource } from '@sup/feed';
import { decision, Outbox, SERVICE_CONFIG } from '@sup/service-kit';
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
  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  feedSource(url: string): FeedSource {
    return FeedSource.parse(url, {
      hardMaxBytes: this.config.maxArtifactBytes,
      timeoutMs: this.config.feedTimeoutMs,
    });
  }

  /**
   * Records the sync (insert-once under its id) and queues it. A repeat with the same id (the
   * scheduler's time slots) records nothing new and queues nothing twice. `requestedBy` names
   * who asked (an API caller, or the service itself for a scheduled sync) on the event.
   */
  async request(url: string, requestedBy: Actor, syncId = newSyncId()): Promise<string> {
    this.feedSource(url); // bad URLs fail here, before anything is recorded
    const requestedAt = new Date();
    await this.syncs.create(syncId, newSync(syncId, url, requestedAt, this.config.syncDeadlineMs));
    const [announced] = await this.outbox.announce([
      decision(SUBJECTS.syncRequested, syncId, {
        syncId,
        url,
        requestedAt: requestedAt.toISOString(),
        requestedBy,
      }),
    ]);
    if (announced.state === 'failed') throw new SyncNotQueuedError(syncId, announced.error);
    return syncId;
  }

  async status(syncId: string): Promise<SyncStatus | undefined> {
    const found = await this.syncs.get(syncId);
    return found && syncStatus(found.value);
  }
}

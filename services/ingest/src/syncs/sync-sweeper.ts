import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { SUBJECTS } from '@sup/contracts';
import {
  expireSync,
  isTerminal,
  markAnnounced,
  unannouncedOutcome,
  type SyncAggregate,
} from '@sup/domain';
import {
  decision,
  mapLimited,
  Outbox,
  PeriodicTask,
  ROOT_LOGGER,
  SERVICE_CONFIG,
} from '@sup/service-kit';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import type { Versioned } from '@sup/jetstream';
import { SYNC_STORE, type SyncStore } from '../state/kv-stores';

/**
 * Every replica, every FEED_SYNC_SWEEP_MS, over every sync in the bucket:
 * - closes syncs whose work vanished: unfinished past their deadline, failed by compare-and-set
 *   (so two replicas sweeping at once change each sync once);
 * - announces each finished sync once on `syncs.v1.finished` (the outbox's compare-and-set on the
 *   sync's subject stores it once however many replicas try), then marks it announced. A crash
 *   between the two leaves it unmarked, and the next sweep announces it again (refused as a
 *   duplicate) and marks it.
 */
@Injectable()
export class SyncSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: PeriodicTask;

  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    this.periodic = new PeriodicTask('sync sweep', config.syncSweepMs, () => this.sweep(), logger);
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  /** Returns how many syncs it closed. */
  async sweep(now = new Date()): Promise<number> {
    // One read of every sync; what is changed goes through compare-and-set on the current value.
    const closed = await mapLimited(await this.syncs.entries(), 16, async ({ key, ...found }) => {
      let sync: Versioned<SyncAggregate> | undefined = found;
      let expired = 0;
      if (!isTerminal(sync.value) && expireSync(sync.value, now)) {
        sync = await this.syncs.update(key, (cur) =>
          cur ? expireSync(cur.value, now) : undefined,
        );
        if (sync?.value.state === 'failed') {
          expired = 1;
          this.logger.warn(
            { syncId: key, correlationId: key, reason: sync.value.reason },
            'feed sync failed: deadline passed',
          );
        }
      }
      if (sync) await this.announce(key, sync.value);
      return expired;
    });
    return closed.reduce((a: number, b: number) => a + b, 0);
  }

  private async announce(syncId: string, sync: SyncAggregate): Promise<void> {
    const outcome = unannouncedOutcome(sync);
    if (!outcome) return;
    const [announced] = await this.outbox.announce([
      decision(SUBJECTS.syncFinished, syncId, outcome),
    ]);
    // Published, or queued in the outbox for its sweeper: either way it will be on the stream.
    if (announced?.state === 'failed') return;
    await this.syncs.update(syncId, (cur) => (cur ? markAnnounced(cur.value) : undefined));
  }
}

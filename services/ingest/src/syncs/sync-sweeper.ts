import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { expireSync, isTerminal } from '@sup/domain';
import { mapLimited, PeriodicTask, ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import { SYNC_STORE, type SyncStore } from '../state/kv-stores';

/**
 * Closes syncs whose work vanished: every replica looks for unfinished syncs past their deadline
 * and fails them by compare-and-set (so two replicas sweeping at once change each sync once).
 */
@Injectable()
export class SyncSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: PeriodicTask;

  constructor(
    @Inject(SYNC_STORE) private readonly syncs: SyncStore,
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
    const keys = await this.syncs.keys();
    const closed = await mapLimited(keys, 16, async (key) => {
      const sync = await this.syncs.get(key);
      if (!sync || isTerminal(sync.value) || !expireSync(sync.value, now)) return 0;
      const after = await this.syncs.update(key, (cur) =>
        cur ? expireSync(cur.value, now) : undefined,
      );
      if (after?.value.state !== 'failed') return 0;
      this.logger.warn(
        { syncId: key, correlationId: key, reason: after.value.reason },
        'feed sync failed: deadline passed',
      );
      return 1;
    });
    return closed.reduce((a: number, b: number) => a + b, 0);
  }
}

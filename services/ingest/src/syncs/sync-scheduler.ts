import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import { SyncRequests } from './sync-requests.service';

/**
 * The scheduled "check for updates" task. Every replica ticks, but the sync id is derived from the
 * time slot, so the slot's request is recorded once (insert-once) and queued once (compare-and-set).
 */
@Injectable()
export class SyncScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly syncs: SyncRequests,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const { syncIntervalS, feedUrl } = this.config;
    if (!syncIntervalS || !feedUrl) return;
    const tick = () => {
      const slot = Math.floor(Date.now() / 1000 / syncIntervalS);
      const syncId = `sync_${createHash('sha256').update(`${feedUrl}\u0000${slot}`).digest('hex').slice(0, 24)}`;
      this.syncs
        .request(feedUrl, { type: 'system', name: this.config.service }, syncId)
        .catch((err: unknown) =>
          this.logger.error({ err }, 'scheduled feed sync could not be queued'),
        );
    };
    tick();
    this.timer = setInterval(tick, syncIntervalS * 1000);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PeriodicTask, ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import type { Logger } from 'pino';
import { AlertsService } from './alerts.service';
import type { AlertingConfig } from './config';

/**
 * Every replica, every ALERT_ANNOUNCE_SWEEP_MS: alert transitions whose events a crash kept from
 * being sent (the KV changed first) are announced and marked (`AlertsService.announcePending`).
 * State rules need it: their next evaluation sees the alert already changed and makes no
 * transition to announce. Event rules would also be re-announced by their redelivery.
 */
@Injectable()
export class AnnounceSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: PeriodicTask;

  constructor(
    alerts: AlertsService,
    @Inject(SERVICE_CONFIG) config: AlertingConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.periodic = new PeriodicTask(
      'alert announcement sweep',
      config.announceSweepMs,
      async () => {
        const announced = await alerts.announcePending();
        if (announced > 0) logger.info({ alerts: announced }, 'unannounced alert transitions sent');
      },
      logger,
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }
}

import { SUBJECTS, type FleetReport } from '@sup/contracts';
import { merkleRoot } from '@sup/domain';
import type { EventPublisher } from '@sup/jetstream';
import type { Logger } from 'pino';
import type { RelayConfig } from './config';
import type { ContentCache } from './content-cache';
import type { ControlPlaneClient } from './control-plane.client';
import type { GroupCatalog } from './group-catalog';

/** The contract's bound on `relay.holds`. */
const MAX_HOLDS = 4_096;

/**
 * The relay says what it is and holds on start and every RELAY_REPORT_INTERVAL_MS: over NATS
 * (`fleet.v1.reported.<relayId>`, its own user may publish only that subject), and over REST
 * (`POST /v1/fleet/reports` with its token) when NATS refuses or is down. Each round first asks
 * the control plane for its effective group, so an operator's reassignment is picked up, and ends
 * by fetching required entries not held yet.
 */
export class Reporter {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: RelayConfig,
    private readonly cache: ContentCache,
    private readonly catalog: GroupCatalog,
    private readonly publisher: EventPublisher,
    private readonly controlPlane: ControlPlaneClient,
    private readonly logger: Logger,
    private readonly reconcile?: () => Promise<unknown>,
  ) {}

  start(): void {
    this.round = this.report();
    this.timer = setInterval(() => {
      this.round = this.round.then(() => this.report());
    }, this.config.reportIntervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  /** A report, then the reconciliation of what the group requires (see RelayService.reconcile). */
  async report(): Promise<void> {
    await this.reportOnce().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'fleet report failed'),
    );
    await this.reconcile?.().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'reconciliation failed'),
    );
  }

  build(group: string): FleetReport {
    const holds = this.cache
      .entries()
      .map((e) => e.sha256)
      .sort()
      .slice(0, MAX_HOLDS);
    return {
      id: this.config.relayId,
      role: 'relay',
      platform: this.config.platform,
      version: this.config.version,
      relayGroup: group,
      securityUpdates: {},
      seenAt: new Date().toISOString(),
      relay: {
        url: this.config.publicUrl,
        holds,
        merkleRoot: merkleRoot(holds),
        cacheBytes: this.cache.totalBytes(),
        cacheMaxBytes: this.config.cacheMaxBytes,
      },
    };
  }

  private async reportOnce(): Promise<void> {
    const group = await this.catalog.refreshGroup();
    const report = this.build(group);
    try {
      await this.publisher.publish({
        type: SUBJECTS.fleetReported,
        entityId: report.id,
        id: `${report.id}@${report.seenAt}`,
        data: { report, receivedAt: report.seenAt },
        replaces: true,
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'fleet report over NATS failed, posting it');
      await this.controlPlane.postFleetReport(report);
    }
  }
}

import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { evaluateRules, resolutionsFor } from '@sup/domain';
import { ROOT_LOGGER, SERVICE_CONFIG } from '@sup/service-kit';
import type { Logger } from 'pino';
import { AlertsService } from '../alerts.service';
import type { AlertingConfig } from '../config';
import { RulesFeed } from './rules-feed';
import { RulesRepository } from './rules.repository';

export interface EvaluationStats {
  computers: number;
  /** Copying this replica's picture (no database is read). */
  snapshotMs: number;
  evaluateMs: number;
  holding: number;
  resolved: number;
}

/**
 * Runs every state rule over this replica's in-memory picture (RulesFeed) on a schedule and soon
 * after it changes (debounced), then raises or keeps what holds and resolves what no longer does. Every replica
 * evaluates: the alerts KV's compare-and-set makes their observations and resolutions one
 * change each, and an observation counts once per episode, so evaluating again never adds an
 * occurrence. A replica with an older snapshot may resolve what another just raised; the next
 * evaluation (of either) raises it again, so they converge within one interval.
 */
@Injectable()
export class RulesEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;

  constructor(
    private readonly repository: RulesRepository,
    private readonly feed: RulesFeed,
    private readonly alerts: AlertsService,
    @Inject(SERVICE_CONFIG) private readonly config: AlertingConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {
    feed.onChange(() => this.poke());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.run(), this.config.rules.evalIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    await this.running;
  }

  /** Something the rules read changed: evaluate soon, once for a whole burst of events. */
  poke(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.run();
    }, this.config.rules.debounceMs);
    this.debounce.unref();
  }

  private run(): void {
    if (this.running) {
      // Events during an evaluation may have come after its snapshot: one more run follows.
      this.again = true;
      return;
    }
    this.running = this.evaluate()
      .then((s) => this.logger.debug(s, 'rules evaluated'))
      .catch((err: unknown) => this.logger.warn({ err }, 'rule evaluation failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }

  async evaluate(now = new Date()): Promise<EvaluationStats> {
    // Until the feed holds every computer, an evaluation would resolve what still holds.
    await this.feed.ready;
    const t0 = performance.now();
    const snapshot = this.feed.snapshot();
    const t1 = performance.now();
    const evaluations = evaluateRules(snapshot, now, this.config.rules.settings);
    const t2 = performance.now();
    // Read before observing: an alert raised just now is named by this evaluation anyway.
    const unresolved = await this.repository.unresolved(evaluations.map((e) => e.rule));
    const holding = evaluations.flatMap((e) => e.holding);
    await this.alerts.observeAll(holding, { perEpisode: true });
    const resolutions = evaluations.flatMap((e) => resolutionsFor(e, unresolved));
    await this.alerts.resolve(resolutions, now);
    return {
      computers: snapshot.computers.length,
      snapshotMs: t1 - t0,
      evaluateMs: t2 - t1,
      holding: holding.length,
      resolved: resolutions.length,
    };
  }
}

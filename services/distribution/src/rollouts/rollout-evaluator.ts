import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  evaluateRollout,
  isRolloutFinished,
  relayReady,
  type RolloutRecord,
  type WaveObservation,
} from '@sup/domain';
import { PeriodicTask, ROOT_LOGGER } from '@sup/service-kit';
import type { Logger } from 'pino';
import { RELAY_LOOKUP, type RelayLookup } from './relay-ports';
import { RolloutAnnouncer } from './rollout-announcer';
import {
  ACTIVE_KEY,
  ROLLOUT_INDEX_STORE,
  ROLLOUT_STORE,
  rolloutKey,
  type RolloutIndexStore,
  type RolloutStore,
} from './rollout-stores';
import { ROLLOUTS_CONFIG, type RolloutsConfig } from './rollouts.config';
import { RolloutsRepository } from './rollouts.repository';

/** An index entry whose rollout was never stored (its creator died after claiming) is dropped after this. */
const ORPHAN_CLAIM_MS = 60_000;

/**
 * The evaluation tick. Every replica runs it; for each active rollout it measures the current
 * wave (relays still to relay the target, members succeeded or failed, all by `_id`), then
 * applies the pure evaluation by compare-and-set, so when two replicas tick at once one change
 * is stored and the other finds nothing left to do. Measurements of a wave the rollout has since
 * left are discarded inside the compare-and-set.
 */
@Injectable()
export class RolloutEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly periodic: PeriodicTask;

  constructor(
    @Inject(ROLLOUT_STORE) private readonly store: RolloutStore,
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    @Inject(RELAY_LOOKUP) private readonly relays: RelayLookup,
    @Inject(ROLLOUTS_CONFIG) config: RolloutsConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly repository: RolloutsRepository,
    private readonly announcer: RolloutAnnouncer,
  ) {
    this.periodic = new PeriodicTask(
      'rollout evaluation',
      config.tickMs,
      () => this.tick(),
      logger,
    );
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }

  async tick(now = new Date()): Promise<void> {
    const active = (await this.index.get(ACTIVE_KEY))?.value.rollouts ?? [];
    for (const entry of active) {
      const stored = await this.store.get(rolloutKey(entry.id));
      if (!stored) {
        if (now.getTime() - Date.parse(entry.createdAt) > ORPHAN_CLAIM_MS)
          await this.announcer.release(entry.id);
        continue;
      }
      // Changes an earlier call stored but did not get to announce.
      await this.announcer.announce(stored);
      if (isRolloutFinished(stored.value.state)) continue;
      await this.evaluate(stored.value, now);
    }
  }

  private async evaluate(r: RolloutRecord, now: Date): Promise<void> {
    if (r.state !== 'running' && r.state !== 'waiting-for-relays') return;
    const seen = await this.observe(r);
    const at = now.toISOString();
    const after = await this.store.update(rolloutKey(r.id), (cur) =>
      cur && cur.value.wave === r.wave ? evaluateRollout(cur.value, seen, at) : undefined,
    );
    if (after && after.value.revision !== r.revision) {
      this.logger.info(
        { rolloutId: r.id, state: after.value.state, wave: after.value.wave },
        'rollout changed',
      );
      await this.announcer.announce(after);
    }
  }

  private async observe(r: RolloutRecord): Promise<WaveObservation> {
    const relays = (await Promise.all(r.groups.map((g) => this.relays.relaysOfGroup(g)))).flat();
    const pendingRelays = await this.repository.notRelayed(r.updateId, [
      ...new Set(relays.map((x) => x.relayId)),
    ]);
    const wave = r.waves[r.wave];
    const members = await this.repository.waveMembers(r.id, r.wave);
    if (wave.kind === 'relays') {
      const docs = await this.repository.computers(members);
      const ready = docs.filter((d) => d && relayReady(r.version, d.version)).length;
      return { pendingRelays, succeeded: ready, failed: 0 };
    }
    return { pendingRelays, ...(await this.repository.countOutcomes(r.id, members)) };
  }
}

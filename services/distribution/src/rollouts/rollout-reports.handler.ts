import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { normalizeVersion, parseVersion, SUBJECTS, type FleetReport } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import {
  ACTIVE_KEY,
  ROLLOUT_INDEX_STORE,
  type ActiveRollout,
  type RolloutIndexStore,
} from './rollout-stores';
import { RolloutsRepository, type OutcomeWrite } from './rollouts.repository';

/**
 * What agents and relays report, for rollouts (durables `rollouts`). An agent's report becomes an
 * outcome for each active rollout it could belong to: `succeeded` when it runs the target build
 * (compared canonically), `failed` when its install of the target update failed. Membership is
 * not looked up here: the tick counts outcomes only of a wave's members, by `_id`, so an outcome
 * of a non-member is never counted and this path makes no reads but the one index key.
 */
@Controller()
export class RolloutReportsHandler {
  constructor(
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    private readonly repository: RolloutsRepository,
  ) {}

  @OnEvents(SUBJECTS.fleetReported, { consumer: 'rollouts' })
  async onReported(@Payload() batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    const active = (await this.index.get(ACTIVE_KEY))?.value.rollouts ?? [];
    if (active.length === 0) return;
    const writes = batch.items.flatMap((item) =>
      item.entityId === item.event.data.report.id
        ? outcomesOf(item.event.data.report, active, new Date(item.event.data.report.seenAt))
        : [],
    );
    await this.repository.writeOutcomes(writes);
  }

  @OnEvents(SUBJECTS.relayed, { consumer: 'rollouts' })
  async onRelayed(@Payload() batch: EventBatch<typeof SUBJECTS.relayed>): Promise<void> {
    await this.repository.recordRelayed(
      batch.items.map(({ event }) => ({
        updateId: event.data.updateId,
        relayId: event.data.relayId,
        at: new Date(event.data.relayedAt),
      })),
    );
  }
}

export function outcomesOf(
  report: FleetReport,
  active: readonly ActiveRollout[],
  at: Date,
): OutcomeWrite[] {
  if (report.role !== 'agent') return [];
  const parsed = parseVersion('software', report.version);
  const runs = parsed.ok ? normalizeVersion('software', report.version) : undefined;
  return active.flatMap((r): OutcomeWrite[] => {
    // Not by group: a member that moved to another group since the rollout began still counts.
    if (r.platform !== report.platform) return [];
    if (r.agentIds && !r.agentIds.includes(report.id)) return [];
    if (runs === r.version)
      return [{ rolloutId: r.id, agentId: report.id, state: 'succeeded', at }];
    if (report.install?.updateId === r.updateId && report.install.state === 'failed')
      return [{ rolloutId: r.id, agentId: report.id, state: 'failed', at }];
    return [];
  });
}

import { Injectable } from '@nestjs/common';
import { SUBJECTS } from '@sup/contracts';
import {
  latestPerComputer,
  relayedKey,
  relayFailedAlert,
  relayFailureSubject,
  RELAY_VERIFICATION_FAILED,
  alertIdOf,
  ruleUpdateOf,
  withdrawnAlert,
} from '@sup/domain';
import type { EventBatch } from '@sup/jetstream';
import { AlertsService } from '../alerts.service';
import { RuleComputerWinners } from './rule-computer-winners';
import { RulesRepository } from './rules.repository';

/**
 * Alerting's durable `rules`: each batch is written to the rules' projection (the transport acks
 * after the handler resolves, so after the write) and the event rules raise or resolve their
 * alerts. Evaluations are scheduled by RulesFeed, which every replica runs over the same facts.
 */
@Injectable()
export class RulesProjection {
  constructor(
    private readonly repository: RulesRepository,
    private readonly alerts: AlertsService,
    private readonly winners: RuleComputerWinners,
  ) {}

  async onReported(batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    const valid = batch.items.filter((item) => {
      if (item.entityId === item.event.data.report.id) return true;
      // A computer may only speak for itself: its subject names it.
      batch.deadLetter(
        item,
        new Error(`subject names ${item.entityId}, report ${item.event.data.report.id}`),
      );
      return false;
    });
    const latest = latestPerComputer(valid.map((item) => item.event.data));
    // Claimed in alerting's KV bucket (pipelined); every replica's RulesFeed watches it.
    await Promise.all(
      latest.map(({ item, rank }) => this.winners.claim(item.report.id, { rank, reported: item })),
    );
  }

  async onPublished(batch: EventBatch<typeof SUBJECTS.published>): Promise<void> {
    await this.repository.writeUpdates(
      batch.items.map(({ event: { data } }) => {
        const { updateId, ...update } = ruleUpdateOf(data);
        return { _id: updateId, ...update };
      }),
    );
  }

  async onWithdrawn(batch: EventBatch<typeof SUBJECTS.withdrawn>): Promise<void> {
    await this.repository.writeWithdrawn(
      batch.items.map(({ event: { data } }) => ({
        _id: data.updateId,
        withdrawnAt: data.withdrawnAt,
      })),
    );
    const at = new Date().toISOString();
    await this.alerts.observeAll(
      batch.items.map(({ event }) => withdrawnAlert(event.data, event.id, at)),
    );
  }

  async onRelayed(batch: EventBatch<typeof SUBJECTS.relayed>): Promise<void> {
    const relayed = batch.items.map(({ event: { data } }) => data);
    await this.repository.writeRelayed(
      relayed.map((r) => ({ _id: relayedKey(r.updateId, r.relayId), relayedAt: r.relayedAt })),
    );
    // A relay that failed to verify an update and then relayed it after all: that alert ends.
    await this.alerts.resolve(
      relayed.map((r) => ({
        alertId: alertIdOf(RELAY_VERIFICATION_FAILED, relayFailureSubject(r.updateId, r.relayId)),
        reason: `relay ${r.relayId} relayed the update at ${r.relayedAt}`,
      })),
    );
  }

  async onRelayFailed(batch: EventBatch<typeof SUBJECTS.relayFailed>): Promise<void> {
    const at = new Date().toISOString();
    await this.alerts.observeAll(
      batch.items.map(({ event }) => relayFailedAlert(event.data, event.id, at)),
    );
  }
}

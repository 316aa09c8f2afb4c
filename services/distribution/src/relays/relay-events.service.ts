import { Injectable, Logger } from '@nestjs/common';
import { RelayGroupNameSchema, SUBJECTS } from '@sup/contracts';
import { latestPerComputer, relayStateId, relayStateRank } from '@sup/domain';
import type { EventBatch } from '@sup/jetstream';
import { PublishedUpdates } from './published-updates';
import { RelaysRepository } from './relays.repository';
import type { RelayUpdateStateDoc } from './relays.schema';

/**
 * The `relays` durables: relays' own fleet reports, their results, withdrawals and publications
 * into the relays' read model. Every write is idempotent (insert-once or replace-by-rank), so a
 * redelivered batch or a second replica changes nothing twice.
 */
@Injectable()
export class RelayEventsService {
  private readonly logger = new Logger(RelayEventsService.name);

  constructor(
    private readonly repository: RelaysRepository,
    private readonly published: PublishedUpdates,
  ) {}

  /** Relays' reports only (agents' are the fleet's); a group named for the first time is created. */
  async applyReports(batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    const relays = batch.items
      .filter((i) => i.event.data.report.role === 'relay' && i.entityId === i.event.data.report.id)
      .map((i) => i.event.data);
    if (relays.length === 0) return;
    const latest = latestPerComputer(relays);
    await this.repository.writeReports(latest.map(({ item, rank }) => ({ reported: item, rank })));
    const groups = new Map<string, string>();
    for (const { report } of relays) {
      if (RelayGroupNameSchema.safeParse(report.relayGroup).success)
        groups.set(report.relayGroup, report.id);
      else
        this.logger.warn(`relay ${report.id} reports group ${report.relayGroup}, not a group name`);
    }
    const now = new Date();
    await this.repository.createGroups(
      [...groups].map(([name, relayId]) => ({
        _id: name,
        createdAt: now,
        createdBy: `relay:${relayId}`,
      })),
    );
  }

  async applyRelayed(batch: EventBatch<typeof SUBJECTS.relayed>): Promise<void> {
    await this.repository.writeStates(
      batch.items.map(({ event: { data } }) => ({
        _id: relayStateId(data.updateId, data.relayId),
        updateId: data.updateId,
        relayId: data.relayId,
        state: 'relayed',
        rank: relayStateRank('relayed'),
        at: new Date(data.relayedAt),
      })),
    );
  }

  async applyFailed(batch: EventBatch<typeof SUBJECTS.relayFailed>): Promise<void> {
    await this.repository.writeStates(
      batch.items.map(({ event: { data } }) => ({
        _id: relayStateId(data.updateId, data.relayId),
        updateId: data.updateId,
        relayId: data.relayId,
        state: 'failed',
        rank: relayStateRank('failed', data.attempt),
        at: new Date(data.failedAt),
        code: data.code,
        attempt: data.attempt,
      })),
    );
  }

  /** Withdrawals made by another replica (or an operator tool) are marked here too. */
  async applyWithdrawn(batch: EventBatch<typeof SUBJECTS.withdrawn>): Promise<void> {
    for (const { event } of batch.items) {
      await this.repository.markWithdrawn({
        _id: event.data.updateId,
        code: event.data.code,
        reason: event.data.reason,
        at: new Date(event.data.withdrawnAt),
      });
    }
    this.published.invalidate();
  }

  /**
   * A security update goes to every relay: each known relay gets a `pending` state stamped with
   * the publication time (never replacing a state it already has). Software builds become pending
   * only when a rollout targets a group, which the directory derives when asked.
   */
  async applyPublished(batch: EventBatch<typeof SUBJECTS.published>): Promise<void> {
    this.published.invalidate();
    const security = batch.items.filter((i) => i.event.data.update.kind === 'security');
    if (security.length === 0) return;
    const relays = await this.repository.allRelays();
    const docs: RelayUpdateStateDoc[] = security.flatMap(({ event: { data } }) =>
      relays.map((r) => ({
        _id: relayStateId(data.update.updateId, r._id),
        updateId: data.update.updateId,
        relayId: r._id,
        state: 'pending' as const,
        rank: relayStateRank('pending'),
        at: new Date(data.publishedAt),
      })),
    );
    await this.repository.writeStates(docs);
  }
}

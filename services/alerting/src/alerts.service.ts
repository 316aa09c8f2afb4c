import { Inject, Injectable } from '@nestjs/common';
import { SUBJECTS, type Alert } from '@sup/contracts';
import type { EventBatch } from '@sup/jetstream';
import { announceBatch, decision, Outbox } from '@sup/service-kit';
import type { AlertRecord } from './alert.schema';
import { AlertRepository, type AlertQuery } from './alert.repository';
import { rejectionAlert } from './rejection-alert';

@Injectable()
export class AlertsService {
  constructor(
    private readonly alerts: AlertRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /** One alert per rejected update: one bulk insert for the batch, then the announcements. */
  async raiseForRejections(batch: EventBatch<typeof SUBJECTS.rejected>): Promise<void> {
    const raisedAt = new Date();
    const decided = batch.items.map((item) => {
      const alert = rejectionAlert(item.event.data);
      return {
        item,
        alert,
        events: [
          decision(SUBJECTS.alertRaised, alert.alertId, {
            ...alert,
            raisedAt: raisedAt.toISOString(),
          }),
        ],
      };
    });
    await this.alerts.insertNew(
      decided.map(({ alert }): AlertRecord => ({
        _id: alert.alertId,
        rule: alert.rule,
        severity: alert.severity,
        state: 'raised',
        summary: alert.summary,
        ...(alert.updateId ? { updateId: alert.updateId } : {}),
        details: alert.details,
        raisedAt,
      })),
    );
    await announceBatch(batch, this.outbox, decided);
  }

  async list(q: AlertQuery): Promise<{ items: Alert[]; total: number }> {
    const { docs, total } = await this.alerts.page(q);
    return {
      items: docs.map((d) => ({
        id: d._id,
        rule: d.rule,
        severity: d.severity,
        state: d.state,
        summary: d.summary,
        ...(d.updateId ? { updateId: d.updateId } : {}),
        details: d.details,
        raisedAt: d.raisedAt.toISOString(),
        ...(d.resolvedAt ? { resolvedAt: d.resolvedAt.toISOString() } : {}),
      })),
      total,
    };
  }
}

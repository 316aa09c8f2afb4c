import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { SUBJECTS, type Alert, type EventData } from '@sup/contracts';
import { OutcomeLedger, insertOnce, outcomeFor, type StageOutcome } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { ALERT_MODEL, type AlertRecord } from './alert.schema';
import { rejectionAlert } from './rejection-alert';

@Injectable()
export class AlertsService {
  constructor(
    @InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertRecord>,
    private readonly ledger: OutcomeLedger,
  ) {}

  raiseForRejection(
    r: EventData<typeof SUBJECTS.rejected>,
  ): Promise<{ outcome: StageOutcome; replayed: boolean }> {
    const alert = rejectionAlert(r);
    return this.ledger.once(`alert:${alert.alertId}`, async () => {
      const raisedAt = new Date();
      await insertOnce(this.alerts, alert.alertId, {
        rule: alert.rule,
        severity: alert.severity,
        state: 'raised',
        summary: alert.summary,
        updateId: alert.updateId,
        details: alert.details,
        raisedAt,
      });
      return outcomeFor(SUBJECTS.alertRaised, alert.alertId, {
        ...alert,
        raisedAt: raisedAt.toISOString(),
      });
    });
  }

  async list(q: {
    state?: string;
    rule?: string;
    limit: number;
    offset: number;
  }): Promise<{ items: Alert[]; total: number }> {
    const filter: Record<string, string> = {};
    if (q.state) filter.state = q.state;
    if (q.rule) filter.rule = q.rule;
    const [docs, total] = await Promise.all([
      this.alerts
        .find(filter)
        .sort({ raisedAt: -1, _id: 1 })
        .skip(q.offset)
        .limit(q.limit)
        .lean()
        .exec(),
      this.alerts.countDocuments(filter).exec(),
    ]);
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

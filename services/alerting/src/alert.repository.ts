import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertManyOnce } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { ALERT_MODEL, type AlertRecord } from './alert.schema';

export interface AlertQuery {
  state?: string;
  rule?: string;
  limit: number;
  offset: number;
}

/** Alerts as stored: each inserted once under its deterministic id, never rewritten here. */
@Injectable()
export class AlertRepository {
  constructor(@InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertRecord>) {}

  /** One unordered bulk insert; an alert that exists already keeps its first record. */
  async insertNew(records: AlertRecord[]): Promise<void> {
    await insertManyOnce(this.alerts, records);
  }

  /** The operator listing: filtered and paged (a read path, not the event hot path). */
  async page(q: AlertQuery): Promise<{ docs: AlertRecord[]; total: number }> {
    const filter: Record<string, string> = {};
    if (q.state) filter.state = q.state;
    if (q.rule) filter.rule = q.rule;
    const [docs, total] = await Promise.all([
      this.alerts
        .find(filter)
        .sort({ raisedAt: -1, _id: 1 })
        .skip(q.offset)
        .limit(q.limit)
        .lean<AlertRecord[]>()
        .exec(),
      this.alerts.countDocuments(filter).exec(),
    ]);
    return { docs, total };
  }
}

import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ListAlertsQuery } from '@sup/contracts';
import type { AlertView } from '@sup/domain';
import type { Versioned } from '@sup/jetstream';
import { allDuplicates, rawCollection } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { docOf } from './alert-mapping';
import { ALERT_MODEL, type AlertDoc } from './alert.schema';

/** Statements per bulk write: bounded, so one write never holds the database for long. */
const WRITE_CHUNK = 100;

/**
 * The listing projection of the alerts in MongoDB, for filtering and paging; the alerts themselves
 * live in the `alerts` KV bucket. A copy replaces the document only if it is of a newer KV revision
 * (the filter names the older revision), so two replicas writing out of order leave the newer copy.
 * A newer copy already there makes the upsert's insert fail as a duplicate: nothing to do.
 */
@Injectable()
export class AlertProjection {
  constructor(@InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertDoc>) {}

  async write(views: Versioned<AlertView>[]): Promise<void> {
    for (let i = 0; i < views.length; i += WRITE_CHUNK) {
      const chunk = views.slice(i, i + WRITE_CHUNK);
      try {
        await rawCollection(this.alerts).bulkWrite(
          chunk.map(({ value, revision }) => ({
            replaceOne: {
              filter: { _id: value.id, revision: { $lt: revision } },
              replacement: docOf(value, revision),
              upsert: true,
            },
          })),
          { ordered: false },
        );
      } catch (error) {
        if (!allDuplicates(error)) throw error;
      }
    }
  }

  /** The operator listing: filtered and paged, most recently seen first. */
  async page(q: ListAlertsQuery): Promise<{ docs: AlertDoc[]; total: number }> {
    const filter: Record<string, string> = {};
    if (q.state) filter.state = q.state;
    if (q.severity) filter.severity = q.severity;
    if (q.rule) filter.rule = q.rule;
    const [docs, total] = await Promise.all([
      this.alerts
        .find(filter)
        .sort({ lastSeen: -1, _id: 1 })
        .skip(q.offset)
        .limit(q.limit)
        .lean<AlertDoc[]>()
        .exec(),
      this.alerts.countDocuments(filter).exec(),
    ]);
    return { docs, total };
  }
}

import type { Alert } from '@sup/contracts';
import { Schema } from 'mongoose';

/**
 * The listing copy of one alert, exactly as the API shows it (the alert itself is in the `alerts`
 * KV bucket, changed by compare-and-set). Replaced whole by `_id`, only by a copy of a newer KV
 * revision. Times are ISO-8601 UTC strings as `toISOString` writes them, so they sort as text.
 */
export type AlertDoc = Omit<Alert, 'id'> & {
  _id: string;
  /** The KV revision this copy was made from. */
  revision: number;
};
export const ALERT_MODEL = 'Alert';
export const AlertSchema = new Schema<AlertDoc>(
  {
    _id: String,
    rule: { type: String, required: true },
    subject: { type: String, required: true },
    severity: { type: String, required: true },
    state: { type: String, required: true },
    summary: { type: String, required: true },
    updateId: String,
    details: { type: Schema.Types.Mixed, required: true },
    raisedAt: { type: String, required: true },
    firstSeen: { type: String, required: true },
    lastSeen: { type: String, required: true },
    occurrences: { type: Number, required: true },
    acknowledgedBy: String,
    acknowledgedAt: String,
    resolvedAt: String,
    resolveReason: String,
    revision: { type: Number, required: true },
  },
  { collection: 'alert_views', versionKey: false, minimize: false },
)
  .index({ state: 1, lastSeen: -1 })
  .index({ rule: 1, state: 1, lastSeen: -1 });

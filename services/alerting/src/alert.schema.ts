import { Schema } from 'mongoose';

export interface AlertRecord {
  _id: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  state: 'raised' | 'resolved';
  summary: string;
  updateId?: string;
  details: Record<string, unknown>;
  raisedAt: Date;
  resolvedAt?: Date;
}
export const ALERT_MODEL = 'Alert';
export const AlertSchema = new Schema<AlertRecord>(
  {
    _id: String,
    rule: { type: String, required: true },
    severity: { type: String, required: true },
    state: { type: String, required: true },
    summary: { type: String, required: true },
    updateId: String,
    details: { type: Schema.Types.Mixed, required: true },
    raisedAt: { type: Date, required: true },
    resolvedAt: Date,
  },
  { collection: 'alerts', versionKey: false, minimize: false },
).index({ state: 1, raisedAt: -1 });

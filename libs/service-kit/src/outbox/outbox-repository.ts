import type { OutgoingEvent } from '@sup/jetstream';
import { Schema, type Model } from 'mongoose';
import { insertManyOnce } from '../mongo';

/** An announcement that could not be published when its decision was made. */
export interface OutboxEntry {
  /** The event id: one entry per event, however often the same announcement fails. */
  _id: string;
  event: OutgoingEvent;
  createdAt: Date;
}

/** Where unannounced events wait. Small by design: entries live only until the next sweep succeeds. */
export interface OutboxRepository {
  /** Stores each entry unless one with its id exists. */
  add(entries: OutboxEntry[]): Promise<void>;
  /** Oldest first, at most `limit`. */
  list(limit: number): Promise<OutboxEntry[]>;
  remove(ids: string[]): Promise<void>;
}

export const OUTBOX_MODEL = 'OutboxEntry';
export const OutboxSchema = new Schema<OutboxEntry>(
  {
    _id: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'outbox', versionKey: false, minimize: false },
);

export class MongoOutboxRepository implements OutboxRepository {
  constructor(private readonly model: Model<OutboxEntry>) {}

  async add(entries: OutboxEntry[]): Promise<void> {
    await insertManyOnce(this.model, entries);
  }

  list(limit: number): Promise<OutboxEntry[]> {
    // The collection only holds what failed to publish, so reading it whole is cheap by design.
    return this.model.find({}).sort({ createdAt: 1 }).limit(limit).lean<OutboxEntry[]>().exec();
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.model.deleteMany({ _id: { $in: ids } }).exec();
  }
}

import type { OutgoingEvent } from '@sup/jetstream';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKeyError, rawCollection } from '../mongo';

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
    if (entries.length === 0) return;
    try {
      await rawCollection(this.model).insertMany(entries, { ordered: false });
    } catch (error) {
      if (!allDuplicates(error)) throw error;
    }
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

/** An unordered insertMany that failed only because some documents existed already. */
export function allDuplicates(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: unknown[] } | null)?.writeErrors;
  // A bulk write error carries its first write error's code as its own, so with a list of write
  // errors only the list can say whether every one of them is a duplicate.
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return isDuplicateKeyError(error);
  return writeErrors.every(
    (e) =>
      (e as { code?: unknown; err?: { code?: unknown } }).code === 11000 ||
      (e as { err?: { code?: unknown } }).err?.code === 11000,
  );
}

/**
 * The positions (in the bulk write's input) of the operations that failed as duplicates, or
 * undefined when the error does not list them (a single-document error: take it as all of them).
 */
export function duplicateIndexes(error: unknown): number[] | undefined {
  const writeErrors = (error as { writeErrors?: unknown[] } | null)?.writeErrors;
  if (!Array.isArray(writeErrors) || writeErrors.length === 0) return undefined;
  return writeErrors.flatMap((e) => {
    const w = e as { index?: number; code?: unknown; err?: { index?: number; code?: unknown } };
    const index = w.index ?? w.err?.index;
    const code = w.code ?? w.err?.code;
    return code === 11000 && typeof index === 'number' ? [index] : [];
  });
}

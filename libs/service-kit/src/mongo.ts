import type { Collection as MongoCollection } from 'mongodb';
import { ConnectionStates, type Connection, type Model } from 'mongoose';
import type { HealthCheck } from './health';

export function mongoHealthCheck(connection: Connection): HealthCheck {
  return {
    name: 'mongo',
    async check() {
      if (connection.readyState !== ConnectionStates.connected || !connection.db) return false;
      await connection.db.admin().ping();
      return true;
    },
  };
}

/** E11000: the upsert lost a race to an identical insert, which for idempotent writes means "done". */
export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

/**
 * Inserts `fields` as document `id` unless it exists: the first writer wins and a repeat is a
 * no-op. The building block of every idempotent handler here (no transactions needed).
 * Resolves true when this call created the document.
 */
export async function insertOnce<T>(
  model: Model<T>,
  id: string,
  fields: Record<string, unknown>,
): Promise<boolean> {
  try {
    const result = await model
      .updateOne({ _id: id }, { $setOnInsert: fields }, { upsert: true })
      .exec();
    return result.upsertedCount === 1;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return false;
  }
}

/**
 * The driver's collection behind a model, typed by its documents. Bulk hot paths use it directly:
 * mongoose would cast and hydrate every document first, which costs more than the write itself
 * for the plain records written here.
 */
export function rawCollection<T extends { _id: string }>(model: Model<T>): MongoCollection<T> {
  return model.collection as unknown as MongoCollection<T>;
}

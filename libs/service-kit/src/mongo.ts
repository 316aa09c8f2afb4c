import {
  MongoBulkWriteError,
  type Filter,
  type Collection as MongoCollection,
  type OptionalUnlessRequiredId,
} from 'mongodb';
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
 * The driver's collection behind a model, typed by its documents. Bulk hot paths use it directly:
 * mongoose would cast and hydrate every document first, which costs more than the write itself
 * for the plain records written here.
 */
export function rawCollection<T extends { _id: string }>(model: Model<T>): MongoCollection<T> {
  return model.collection as unknown as MongoCollection<T>;
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

/**
 * Inserts every document whose `_id` is new, in one unordered bulk write through the driver; a
 * document that exists keeps its first writer's content. Returns the ids that existed already.
 * Any other write error fails the call.
 */
export async function insertManyOnce<T extends { _id: string }>(
  model: Model<T>,
  docs: T[],
): Promise<Set<string>> {
  const existed = new Set<string>();
  if (docs.length === 0) return existed;
  try {
    await rawCollection(model).insertMany(docs as OptionalUnlessRequiredId<T>[], {
      ordered: false,
    });
  } catch (error) {
    if (!allDuplicates(error)) throw error;
    const indexes = duplicateIndexes(error);
    if (!indexes) for (const d of docs) existed.add(d._id);
    else for (const i of indexes) if (docs[i]) existed.add(docs[i]._id);
  }
  return existed;
}

/**
 * Replaces (or creates) each document by `_id` only, in unordered bulks of `chunk`: the read-model
 * side of `writeLatest` (libs/domain), which decides and re-checks what each key holds, so the
 * write needs no condition (on FerretDB a filter beyond `_id` scans). Answers the ids to write
 * again: two replicas upserting a new document at once can meet as a duplicate key, and FerretDB
 * stops an unordered bulk at its first error, so the whole chunk is tried again (a replace by
 * `_id` is idempotent). Any other error fails the call.
 */
export async function replaceAllById<T extends { _id: string }>(
  model: Model<T>,
  docs: readonly T[],
  chunk = 500,
): Promise<ReadonlySet<string>> {
  const failed = new Set<string>();
  for (let i = 0; i < docs.length; i += chunk) {
    const part = docs.slice(i, i + chunk);
    try {
      await rawCollection(model).bulkWrite(
        part.map((doc) => ({
          replaceOne: { filter: { _id: doc._id } as Filter<T>, replacement: doc, upsert: true },
        })),
        { ordered: false },
      );
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      for (const { _id } of part) failed.add(_id);
    }
  }
  return failed;
}

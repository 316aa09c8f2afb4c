import { Kvm, type KV } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { JetStreamConnection } from './connection';
import { WRONG_LAST_SEQUENCE } from './publish-retry';

export interface BucketOptions {
  /** Stream replicas of the bucket (3 on a cluster). Default 1. */
  replicas?: number;
  /** Keys untouched for this long are removed by the server; 0 keeps them. Default 0. */
  ttlMs?: number;
  description?: string;
}

/** A value and the revision it was read at: the token of the next compare-and-set. */
export interface Versioned<T> {
  value: T;
  revision: number;
}

/** What an update function decides: a new value, or `undefined` for "leave it as it is". */
export type Mutation<T> = (current: Versioned<T> | undefined) => T | undefined;

export class CasConflictError extends Error {
  constructor(key: string, attempts: number) {
    super(`${key}: still contended after ${attempts} compare-and-set attempts`);
    this.name = 'CasConflictError';
  }
}

const isRevisionConflict = (error: unknown): boolean =>
  (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) ||
  (error instanceof Error && /wrong last sequence|key exists/i.test(error.message));

/**
 * JSON values in a JetStream key-value bucket, changed only by compare-and-set on the key's
 * revision. This is where state lives that several replicas change (a sync's progress, an update's
 * view, who holds stored bytes): MongoDB would need a transaction or an atomic update operator to
 * do the same, and FerretDB has neither that holds under concurrency.
 */
export class VersionedStore<T> {
  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
  ) {}

  static async open<T>(
    connection: JetStreamConnection,
    bucket: string,
    options: BucketOptions = {},
  ): Promise<VersionedStore<T>> {
    const kv = await new Kvm(connection.js).create(bucket, {
      history: 1,
      replicas: options.replicas ?? 1,
      ...(options.ttlMs ? { ttl: options.ttlMs } : {}),
      ...(options.description ? { description: options.description } : {}),
    });
    return new VersionedStore<T>(kv, bucket);
  }

  async get(key: string): Promise<Versioned<T> | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    return { value: entry.json<T>(), revision: entry.revision };
  }

  /** Stores `value` unless the key exists; false when it did (the existing value stands). */
  async create(key: string, value: T): Promise<boolean> {
    try {
      await this.kv.create(key, JSON.stringify(value));
      return true;
    } catch (error) {
      if (isRevisionConflict(error)) return false;
      throw error;
    }
  }

  /**
   * Reads, applies `mutate`, and writes only if nobody wrote in between; otherwise reads again and
   * re-applies. `mutate` must be a pure function of what it is given: it may run several times.
   * Returns what is stored afterwards (unchanged when `mutate` returned undefined).
   */
  async update(
    key: string,
    mutate: Mutation<T>,
    maxAttempts = 20,
  ): Promise<Versioned<T> | undefined> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const current = await this.get(key);
      const next = mutate(current);
      if (next === undefined) return current;
      try {
        const data = JSON.stringify(next);
        const revision = current
          ? await this.kv.update(key, data, current.revision)
          : await this.kv.create(key, data);
        return { value: next, revision };
      } catch (error) {
        if (!isRevisionConflict(error)) throw error;
        // Someone else won this round; back off a little so two replicas do not collide forever.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new CasConflictError(key, maxAttempts);
  }

  async delete(key: string, revision?: number): Promise<void> {
    await this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
  }

  /** Every live key (for sweepers; the bucket's TTL bounds how many there are). */
  async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys;
  }
}

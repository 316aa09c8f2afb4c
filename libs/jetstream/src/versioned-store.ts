import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { JetStreamConnection } from './connection';
import { WRONG_LAST_SEQUENCE } from './publish-retry';

export interface BucketOptions {
  /** Stream replicas of the bucket (3 on a cluster). Default 1. */
  replicas?: number;
  /** Keys untouched for this long are removed by the server; 0 keeps them. Default 0. */
  ttlMs?: number;
  description?: string;
  /**
   * Values this process last read or wrote, kept per key (most recent `cacheEntries` keys), so an
   * update first tries the cached revision without reading: one request instead of two when
   * nobody else wrote the key meanwhile; the compare-and-set refuses a stale one, and the update
   * reads and tries again. 0 (default): no cache.
   */
  cacheEntries?: number;
}

/** A key's change as a watch sees it: its value, or `undefined` once it was deleted. */
export type WatchChange<T> = (key: string, value: T | undefined, revision: number) => void;

/** A running watch (`VersionedStore.watch`). */
export interface StoreWatch {
  /** Resolves once every value the keys held when the watch opened was delivered. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** How long a watch whose consumer went away (a NATS restart) waits before it opens again. */
const REWATCH_MS = 1_000;
/** A key listing that has not finished by then fails (the caller tries again later). */
const KEYS_TIMEOUT_MS = 30_000;

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
  /** Insertion-ordered, so the first key is the least recently touched one. */
  private readonly cache = new Map<string, Versioned<T>>();

  private constructor(
    private readonly kv: KV,
    readonly bucket: string,
    private readonly cacheEntries = 0,
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
    return new VersionedStore<T>(kv, bucket, options.cacheEntries ?? 0);
  }

  async get(key: string): Promise<Versioned<T> | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) {
      this.cache.delete(key);
      return undefined;
    }
    return this.remember(key, { value: entry.json<T>(), revision: entry.revision });
  }

  private remember(key: string, versioned: Versioned<T>): Versioned<T> {
    if (this.cacheEntries === 0) return versioned;
    // A watch may deliver a revision older than one this process has just written.
    if ((this.cache.get(key)?.revision ?? 0) > versioned.revision) return versioned;
    this.cache.delete(key);
    this.cache.set(key, versioned);
    if (this.cache.size > this.cacheEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return versioned;
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
    // The first attempt may start from the cached value: a stale one only costs a refused write.
    let cached = this.cache.get(key);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const fromCache = cached !== undefined;
      const current = cached ?? (await this.get(key));
      cached = undefined;
      const next = mutate(current);
      // "No change" is an answer about the stored value: a cached one is confirmed first.
      if (next === undefined && fromCache) continue;
      if (next === undefined) return current;
      try {
        const data = JSON.stringify(next);
        const revision = current
          ? await this.kv.update(key, data, current.revision)
          : await this.kv.create(key, data);
        return this.remember(key, { value: next, revision });
      } catch (error) {
        if (!isRevisionConflict(error)) throw error;
        this.cache.delete(key);
        // Someone else won this round; back off a little so two replicas do not collide forever.
        if (!fromCache)
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
    throw new CasConflictError(key, maxAttempts);
  }

  async delete(key: string, revision?: number): Promise<void> {
    this.cache.delete(key);
    await this.kv.delete(key, revision === undefined ? undefined : { previousSeq: revision });
  }

  /**
   * Every live key with its value (for sweepers and listings; the bucket's TTL bounds how many
   * there are), read through `watch`, which counts the values it was promised: the client's own
   * key listing stops on a per-message pending count, and was seen here to wait forever while
   * keys were being added. A value may be changed by the time it is used: change it by `update`.
   */
  async entries(): Promise<(Versioned<T> & { key: string })[]> {
    const found = new Map<string, Versioned<T>>();
    let failure: unknown;
    const watch = this.watch(
      '>',
      (key, value, revision) =>
        value === undefined ? found.delete(key) : found.set(key, { value, revision }),
      (error) => (failure = error),
    );
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), KEYS_TIMEOUT_MS);
    });
    let complete = false;
    try {
      complete = await Promise.race([watch.ready.then(() => true), gaveUp]);
    } finally {
      clearTimeout(timer);
      await watch.stop();
    }
    if (failure !== undefined || !complete)
      throw new Error(
        `listing the keys of ${this.bucket} failed: ${failure instanceof Error ? failure.message : 'timed out'}`,
      );
    return [...found].map(([key, v]) => ({ key, ...v }));
  }

  async keys(): Promise<string[]> {
    return (await this.entries()).map((e) => e.key);
  }

  /**
   * Follows the keys matching `filter` (subject syntax, e.g. `computer.>`): first each one's
   * current value, then every change as it is made, in revision order. If the watch's consumer
   * goes away it opens again from the next revision, so nothing is missed or applied twice out of
   * order. `ready` needs the bucket to hold only keys matching `filter` when it is empty at the
   * start (an empty watch delivers nothing to say it is done); every caller keeps such buckets.
   */
  watch(filter: string, onChange: WatchChange<T>, onError?: (error: unknown) => void): StoreWatch {
    let stopped = false;
    let next = 0;
    let iterator: QueuedIterator<KvWatchEntry> | undefined;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const follow = async (): Promise<void> => {
      while (!stopped) {
        try {
          if (next === 0 && (await this.kv.status()).values === 0) markReady();
          iterator = await this.kv.watch({
            key: filter,
            ...(next > 0 ? { resumeFromRevision: next } : {}),
          });
          if (stopped) iterator.stop();
          for await (const entry of iterator) {
            next = entry.revision + 1;
            const live = entry.operation === 'PUT' && entry.length > 0;
            const value = live ? entry.json<T>() : undefined;
            // A watched key's cached revision stays current, so this process's updates of it
            // rarely start from a stale one, however many replicas write the bucket.
            if (value === undefined) this.cache.delete(entry.key);
            else if (this.cacheEntries > 0)
              this.remember(entry.key, { value, revision: entry.revision });
            onChange(entry.key, value, entry.revision);
            // isUpdate: the client counted the values the consumer had pending when it began.
            if (entry.isUpdate) markReady();
          }
        } catch (error) {
          onError?.(error);
        }
        if (!stopped) await new Promise((r) => setTimeout(r, REWATCH_MS));
      }
    };
    const loop = follow();
    return {
      ready,
      stop: async () => {
        stopped = true;
        iterator?.stop();
        await loop;
      },
    };
  }
}

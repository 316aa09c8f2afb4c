/** A value and the revision it was stored at (`Versioned` in @sup/jetstream). */
export interface Revisioned<T> {
  value: T;
  revision: number;
}

/**
 * What code under test uses of `VersionedStore` (@sup/jetstream). Declared here, not imported:
 * jetstream's own specs use @sup/testing, so this library cannot depend on it. `asStore` checks
 * the real class against this shape wherever the fake is handed over.
 */
export interface VersionedStoreShape<T> {
  get(key: string): Promise<Revisioned<T> | undefined>;
  create(key: string, value: T): Promise<boolean>;
  update(
    key: string,
    mutate: (current: Revisioned<T> | undefined) => T | undefined,
    maxAttempts?: number,
  ): Promise<Revisioned<T> | undefined>;
  delete(key: string, revision?: number): Promise<void>;
  keys(): Promise<string[]>;
  entries(): Promise<(Revisioned<T> & { key: string })[]>;
}

/**
 * An in-memory stand-in for `VersionedStore` (a JetStream KV bucket), for unit tests of code that
 * changes shared state by compare-and-set. It keeps what that code relies on: values round-trip
 * through JSON as in the bucket, every write takes the bucket's next revision, `update` writes only
 * if the key's revision is still the one it read (else reads again and re-applies `mutate`), and a
 * mutation returning `undefined` writes nothing. `mutate` gets a deeply frozen value, so one that
 * changes its input instead of returning a new value throws here rather than passing by luck.
 *
 * Tests reach the races through `beforeWrite` (runs after `update` decided, before it writes: call
 * `set` there to play another replica winning the round, or throw to fail the write) and `set`.
 */
export class MemoryVersionedStore<T> implements VersionedStoreShape<T> {
  private readonly stored = new Map<string, { json: string; revision: number }>();
  /** Revisions are the bucket's sequence, shared by all keys, as in a KV stream. */
  private sequence = 0;
  /** Keys in the order they were written by `create`, `update` or `set`. */
  readonly written: string[] = [];
  beforeWrite: ((key: string, attempt: number) => void | Promise<void>) | undefined;

  constructor(readonly bucket = 'memory') {}

  /**
   * This fake where production code wants the real store, e.g. `asStore<VersionedStore<X>>()`: the
   * cast is needed for the real class's private members, and the constraint fails to compile if
   * the real store's methods no longer fit the ones faked here.
   */
  asStore<S extends VersionedStoreShape<T>>(): S {
    return this as unknown as S;
  }

  get(key: string): Promise<Revisioned<T> | undefined> {
    return Promise.resolve(this.read(key));
  }

  create(key: string, value: T): Promise<boolean> {
    if (this.stored.has(key)) return Promise.resolve(false);
    this.write(key, value);
    return Promise.resolve(true);
  }

  async update(
    key: string,
    mutate: (current: Revisioned<T> | undefined) => T | undefined,
    maxAttempts = 20,
  ): Promise<Revisioned<T> | undefined> {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const current = this.read(key);
      // A frozen copy of its own: what is returned below stays the caller's to change.
      const seen = this.read(key);
      const next = mutate(seen && { value: deepFreeze(seen.value), revision: seen.revision });
      if (next === undefined) return current;
      await this.beforeWrite?.(key, attempt);
      if (this.stored.get(key)?.revision !== current?.revision) continue; // lost the round
      // As the real store: what `mutate` returned, at the revision it was written under.
      return { value: next, revision: this.write(key, next) };
    }
    // As the real store's CasConflictError (not importable here, see VersionedStoreShape).
    const error = new Error(
      `${key}: still contended after ${maxAttempts} compare-and-set attempts`,
    );
    error.name = 'CasConflictError';
    throw error;
  }

  delete(key: string, revision?: number): Promise<void> {
    const stored = this.stored.get(key);
    if (revision !== undefined && stored?.revision !== revision) {
      return Promise.reject(new Error(`${key}: wrong last sequence: ${stored?.revision ?? 0}`));
    }
    if (stored) {
      this.stored.delete(key);
      this.sequence++;
    }
    return Promise.resolve();
  }

  keys(): Promise<string[]> {
    return Promise.resolve([...this.stored.keys()]);
  }

  entries(): Promise<(Revisioned<T> & { key: string })[]> {
    return Promise.resolve(
      [...this.stored.keys()].map((key) => ({ key, ...(this.read(key) as Revisioned<T>) })),
    );
  }

  /** An unconditional write, as another replica's winning compare-and-set: the revision moves on. */
  set(key: string, value: T): Revisioned<T> {
    this.write(key, value);
    return this.read(key) as Revisioned<T>;
  }

  private read(key: string): Revisioned<T> | undefined {
    const stored = this.stored.get(key);
    return stored && { value: JSON.parse(stored.json) as T, revision: stored.revision };
  }

  private write(key: string, value: T): number {
    const revision = ++this.sequence;
    this.stored.set(key, { json: JSON.stringify(value), revision });
    this.written.push(key);
    return revision;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

import {
  claimed,
  marked,
  type RankedValue,
  type SkipRule,
  type Stored,
  type WinnerStore,
} from './latest-wins';

/** What a winner store needs of a compare-and-set key-value store (a JetStream KV bucket). */
export interface CasStore<V> {
  get(key: string): Promise<Stored<V> | undefined>;
  /** Reads, applies `mutate`, writes only at the revision read (else again); undefined: no write. */
  update(
    key: string,
    mutate: (current: Stored<V> | undefined) => V | undefined,
  ): Promise<Stored<V> | undefined>;
}

/**
 * `WinnerStore` over a compare-and-set store: claims by `claimed` (with `skip`, unchanged values
 * are claimed as written), marks by `marked`. Keys are stored under `prefix` (a bucket shared
 * with other state).
 */
export class CasWinnerStore<V extends RankedValue> implements WinnerStore<V> {
  constructor(
    private readonly store: CasStore<V>,
    private readonly skip: SkipRule<V> | undefined,
    private readonly prefix = '',
  ) {}

  async claim(key: string, candidate: V): Promise<Stored<V>> {
    const stored = await this.store.update(this.prefix + key, (current) =>
      claimed(candidate, current, this.skip),
    );
    // `claimed` returns the candidate when the key is empty, so there is always a value.
    if (!stored) throw new Error(`${key}: no value after a claim`);
    return stored;
  }

  get(key: string): Promise<Stored<V> | undefined> {
    return this.store.get(this.prefix + key);
  }

  async mark(key: string, written: Stored<V>): Promise<void> {
    // Without skipping nothing reads the mark: spare the KV requests.
    const skip = this.skip;
    if (!skip) return;
    await this.store.update(this.prefix + key, (current) =>
      marked(written, current, (value) => skip.seenAt(value)),
    );
  }
}

/**
 * Latest-wins per key, written through to a read model that is only ever written by key (no
 * conditional write there: on FerretDB a filtered replace scans the collection). The winner per
 * key is decided in a compare-and-set store (a JetStream KV bucket); the read model copies it.
 *
 * For each key of a batch:
 * 1. **Claim**: compare-and-set the candidate into the store if it outranks what is stored; either
 *    way the claim answers what the store holds afterwards (the candidate, or a newer value).
 * 2. **Write through**: replace the read model's document by key with that stored value.
 * 3. **Re-check**: read the store again. If its revision is still the one written, done; if not,
 *    a newer value won meanwhile, and this writer's replace may have landed after that value's
 *    own replace: write the newer value too, and re-check again.
 *
 * Why the read model ends with the store's final value, with any number of replicas and any
 * interleaving: take the last replace of a key's document. Its writer read the store after it
 * (step 3). Any later change to the store is followed by its claimer's replace, which would come
 * after the last one; so that read saw the final value. Had it written something else, it would
 * have replaced again, after the last replace. So the last replace wrote the final value. The
 * store only ever moves to a higher rank, so the final value is the highest any claim offered.
 *
 * Crashes and redeliveries: a claim that stored a value but never wrote it through leaves its
 * message unacknowledged; it comes again, or, when a stream that keeps one message per key
 * replaced it, the message that replaced it is processed, and step 1 answers the stored value
 * whatever that message's rank, so step 2 writes it through. Losing claims are written through
 * too for this reason (they are rare: out-of-order reports).
 *
 * Skipping unchanged values (`SkipRule`): most reports of a known computer differ from its last
 * only in when it was seen. The stored value says whether the read model holds it (`written`, set
 * by compare-and-set at the revision a re-check confirmed) and the `writtenSeenAt` of that write.
 * A claim whose previous value is `written`, materially equal, and seen less than the resolution
 * after `writtenSeenAt` is stored `written` too, with the same `writtenSeenAt`, and not written
 * through. Why this keeps the argument above for the material fields: a skip changes the store
 * without a replace, but only to content materially equal to what it held, so the last replace's
 * re-check still saw the final content; and `written` means some writer's replace of that
 * content was confirmed after it (a claim that crashed before its write or mark leaves
 * `written: false`, so the next report, or its redelivery, writes through). The read model's seen
 * time lags the store's by less than the resolution.
 */
import { supersedes } from './latest-report';

export interface Stored<V> {
  value: V;
  /** The store's revision of the key: any change makes a new one. */
  revision: number;
}

export interface RankedValue {
  rank: string;
  /** The read model holds this value (materially): a re-check confirmed its write. */
  written?: boolean;
  /** When `written`: the seen time (ms since the epoch) of the value last written through. */
  writtenSeenAt?: number;
}

/** When a claim may skip the write-through (see the header). */
export interface SkipRule<V> {
  /** Equal in everything the read model keeps but the seen and received times and the rank. */
  sameMaterial(a: V, b: V): boolean;
  /** The value's seen time, ms since the epoch. */
  seenAt(value: V): number;
  /** How far the read model's seen time may lag the latest report's. */
  resolutionMs: number;
}

/** The compare-and-set store that decides the winner per key. */
export interface WinnerStore<V extends RankedValue> {
  /**
   * Stores `candidate` unless the key holds a value of equal or higher rank (compare-and-set on
   * the key's revision, retried on a conflict); answers what the key holds afterwards.
   */
  claim(key: string, candidate: V): Promise<Stored<V>>;
  get(key: string): Promise<Stored<V> | undefined>;
  /**
   * Marks the value at `written.revision` as written through (compare-and-set at that revision;
   * does nothing when the key moved on: the newer value's claimer owns it).
   */
  mark(key: string, written: Stored<V>): Promise<void>;
}

/** The read model: a document per key, replaced (or created) by key. */
export interface KeyedReadModel<V> {
  /** Replaces every entry's document; answers the keys whose write failed (to be tried again). */
  replaceAll(entries: readonly { key: string; value: V }[]): Promise<ReadonlySet<string>>;
}

export class WriteThroughError extends Error {
  constructor(keys: readonly string[], rounds: number) {
    super(
      `${keys.length} key(s) still moving after ${rounds} write-through rounds: ${keys.slice(0, 5).join(', ')}`,
    );
    this.name = 'WriteThroughError';
  }
}

/**
 * The claim rule a store applies: the candidate when it outranks what is stored, else nothing;
 * with a skip rule, the candidate marked `written` when the read model already holds it (header).
 */
export function claimed<V extends RankedValue>(
  candidate: V,
  current: Stored<V> | undefined,
  skip?: SkipRule<V>,
): V | undefined {
  if (!supersedes(candidate.rank, current?.value.rank)) return undefined;
  const previous = current?.value;
  if (
    skip &&
    previous?.written === true &&
    previous.writtenSeenAt !== undefined &&
    skip.sameMaterial(candidate, previous) &&
    skip.seenAt(candidate) - previous.writtenSeenAt < skip.resolutionMs
  ) {
    return { ...candidate, written: true, writtenSeenAt: previous.writtenSeenAt };
  }
  return candidate;
}

/** The mark rule: the value at `written`'s revision, now `written`; nothing when the key moved on. */
export const marked = <V extends RankedValue>(
  written: Stored<V>,
  current: Stored<V> | undefined,
  seenAt: (value: V) => number,
): V | undefined =>
  current?.revision === written.revision && current.value.written !== true
    ? { ...current.value, written: true, writtenSeenAt: seenAt(current.value) }
    : undefined;

/**
 * Claims every candidate (one per key; pipelined), writes the stored values that are not already
 * `written` through in one bulk and re-checks until every key's written revision is the stored
 * one, then marks those revisions `written`. Throws after `maxRounds` (a key changing that often
 * means heavy contention: the batch is retried later). Answers how many keys it wrote through.
 */
export async function writeLatest<V extends RankedValue>(
  store: WinnerStore<V>,
  model: KeyedReadModel<V>,
  candidates: readonly { key: string; value: V }[],
  maxRounds = 8,
): Promise<number> {
  let pending = new Map<string, Stored<V>>();
  const claims = await Promise.all(candidates.map((c) => store.claim(c.key, c.value)));
  candidates.forEach((c, i) => {
    if (claims[i].value.written !== true) pending.set(c.key, claims[i]);
  });
  const writes = pending.size;
  for (let round = 1; pending.size > 0; round++) {
    if (round > maxRounds) throw new WriteThroughError([...pending.keys()], maxRounds);
    const written = [...pending];
    const failed = await model.replaceAll(written.map(([key, s]) => ({ key, value: s.value })));
    const now = await Promise.all(written.map(([key]) => store.get(key)));
    const next = new Map<string, Stored<V>>();
    const confirmed: [string, Stored<V>][] = [];
    written.forEach(([key, wrote], i) => {
      const stored = now[i];
      // Keys are never deleted: a claimed key that is gone means someone removed the bucket.
      if (!stored) throw new Error(`${key}: claimed, then missing from the winner store`);
      // A newer value is written again even when it is `written`: this replace may have covered it.
      if (failed.has(key) || stored.revision !== wrote.revision) next.set(key, stored);
      else if (stored.value.written !== true) confirmed.push([key, stored]);
    });
    await Promise.all(confirmed.map(([key, stored]) => store.mark(key, stored)));
    pending = next;
  }
  return writes;
}

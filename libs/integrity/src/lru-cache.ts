/**
 * A bounded map that forgets the least recently used entry first. A Map iterates in insertion
 * order, so re-inserting on every hit keeps the oldest entry first and eviction is O(1).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  /** The most recently used key: hits on it need no reordering (the steady state of one signer). */
  private newest: K | undefined;

  constructor(readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined && key !== this.newest) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.newest = key;
    }
    return value;
  }

  /** Returns how many entries were evicted to make room (0 or 1). */
  set(key: K, value: V): number {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    if (this.entries.size <= this.maxEntries) return 0;
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
    return 1;
  }

  delete(key: K): boolean {
    if (key === this.newest) this.newest = undefined;
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.newest = undefined;
  }
}

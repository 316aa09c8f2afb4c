import { sealRecord, signCheckpoint, type RecordContent } from '@sup/audit';
import type { AuditRecord } from '@sup/contracts';
import type { Logger } from 'pino';
import type { Append, ChainStore, Tail } from './chain-store';
import type { SigningKey } from './signing-key';

/** A record waiting for its place: a source event's, or a checkpoint of whatever precedes it. */
export type Pending =
  { kind: 'source'; msgId: string; content: RecordContent } | { kind: 'checkpoint' };

interface Waiter {
  items: Pending[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface AppenderOptions {
  checkpointEvery: number;
  /** Records appended at once (one pipelined round of compare-and-set publishes). */
  maxBatch: number;
  /** Rounds lost to other replicas before an append gives up (its messages are retried). */
  maxRounds: number;
}

const jitter = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms / 2 + Math.random() * (ms / 2)));

/**
 * Appends records to the chain. Correctness rests on the stream alone: every record is published
 * with the sequence it expects before it (see ChainStore.append), so of several replicas exactly one wins
 * each position and the others chain their records again after the new tail. Within a process the
 * handlers' records are also queued and appended together (a group commit), so one process does
 * not race itself; nothing depends on that queue for correctness.
 */
export class ChainAppender {
  private readonly queue: Waiter[] = [];
  private draining: Promise<void> | undefined;
  /** A hint only (another replica may have checkpointed since): re-read before deciding. */
  private lastCheckpointSeq: number | undefined;

  constructor(
    private readonly store: ChainStore,
    private readonly key: SigningKey,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'debug'>,
    private readonly options: AppenderOptions,
  ) {}

  /** Resolves when every item is on the chain (or already was). */
  append(items: Pending[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    });
  }

  /** Appends a checkpoint unless the chain already ends with one (or is empty). */
  async checkpointIfDue(): Promise<void> {
    const tail = await this.store.tail();
    if (tail.seq === 0 || tail.kind === 'checkpoint') return;
    await this.append([{ kind: 'checkpoint' }]);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const waiters: Waiter[] = [];
      let count = 0;
      while (this.queue.length > 0 && count < this.options.maxBatch) {
        const next = this.queue.shift()!;
        waiters.push(next);
        count += next.items.length;
      }
      try {
        await this.appendAll(waiters.flatMap((w) => w.items));
        for (const w of waiters) w.resolve();
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error));
        for (const w of waiters) w.reject(err);
      }
    }
  }

  private async appendAll(items: Pending[]): Promise<void> {
    let remaining = items;
    for (let round = 1; remaining.length > 0; round++) {
      this.lastCheckpointSeq ??= await this.store.lastCheckpointSeq();
      const { appends, itemOf } = this.chain(await this.store.tail(), remaining);
      if (appends.length === 0) return; // only a checkpoint, and the chain ends with one
      const results = await this.store.append(appends);
      // The store stops at the first record not stored: a duplicate is chained already (this
      // source, by another replica or an earlier attempt); the rest need the new tail.
      const stopped = results.at(-1);
      const done = results.length - (stopped === 'stored' || stopped === 'duplicate' ? 0 : 1);
      // A checkpoint left out because it would have followed another one is not needed at all.
      const left = new Set(appends.flatMap((_, j) => (j >= done ? [itemOf[j]] : [])));
      const keep = remaining.filter((_, i) => left.has(i));
      if (stopped === 'duplicate') {
        this.logger.info(
          { msgId: appends[done - 1].msgId },
          'already on the audit chain (redelivered)',
        );
      }
      const failure = results.find((r): r is Error => r instanceof Error);
      if (failure && done === 0) throw failure;
      if (keep.length > 0 && round >= this.options.maxRounds) {
        throw new Error(
          `audit chain: ${keep.length} records still not appended after ${round} rounds lost to other writers`,
        );
      }
      for (const a of appends.slice(0, done)) {
        if (a.record.kind === 'checkpoint') this.lastCheckpointSeq = a.record.seq;
      }
      if (stopped === 'lost-race') {
        this.logger.debug({ round, left: keep.length }, 'audit chain moved on; chaining again');
        await jitter(Math.min(200, 5 * round));
      }
      remaining = keep;
    }
  }

  /**
   * Seals the records after `tail`; a checkpoint signs whatever ends up just before it. One is
   * added (for no item) once `checkpointEvery` records follow the last, so a busy chain is
   * anchored as often as a quiet one.
   */
  private chain(tail: Tail, items: readonly Pending[]): { appends: Append[]; itemOf: number[] } {
    const appends: Append[] = [];
    const itemOf: number[] = [];
    let prev: Tail = tail;
    let anchored = tail.kind === 'checkpoint' ? tail.seq : (this.lastCheckpointSeq ?? 0);
    const add = (item: Pending, index: number): void => {
      if (item.kind === 'checkpoint' && (prev.seq === 0 || prev.kind === 'checkpoint')) return;
      const content =
        item.kind === 'checkpoint'
          ? signCheckpoint(prev, new Date(), this.key.privateKey)
          : item.content;
      const record: AuditRecord = sealRecord({
        v: 1,
        seq: prev.seq + 1,
        prevHash: prev.hash,
        ...content,
      });
      // Two replicas checkpointing the same head share the message id: one record, not two.
      const msgId = item.kind === 'checkpoint' ? `audit:checkpoint:${prev.seq}` : item.msgId;
      appends.push({ record, msgId });
      itemOf.push(index);
      prev = { seq: record.seq, hash: record.hash, kind: record.kind };
      if (record.kind === 'checkpoint') anchored = record.seq;
    };
    items.forEach((item, i) => {
      add(item, i);
      if (prev.seq - anchored >= this.options.checkpointEvery) add({ kind: 'checkpoint' }, -1);
    });
    return { appends, itemOf };
  }
}

import type { Subject } from '@sup/contracts';
import type { BatchItem, EventBatch, OutgoingEvent } from '@sup/jetstream';
import type { Outbox } from './outbox';

/** Runs `fn` over `items` with at most `limit` at once, keeping results in input order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i], i);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * Announces what a batch decided and settles each item by its own events: an item whose events
 * reached the stream or the outbox is done; one whose events could go nowhere is retried. Items
 * already marked by the handler (retry, dead letter) have no events here.
 */
export async function announceBatch<S extends Subject>(
  batch: EventBatch<S>,
  outbox: Outbox,
  decided: { item: BatchItem<S>; events: OutgoingEvent[] }[],
): Promise<void> {
  const flat = decided.flatMap((d) => d.events.map((event) => ({ item: d.item, event })));
  const announcements = await outbox.announce(flat.map((f) => f.event));
  announcements.forEach((a, i) => {
    if (a.state === 'failed') batch.retry(flat[i].item, a.error);
  });
}

/**
 * The shape of a stateless stage: decide each item on its own (at most `concurrency` at once),
 * announce every decision together, and retry only the items whose decision could not be made
 * (an I/O error, not a verdict) or announced.
 */
export async function decideEach<S extends Subject>(
  batch: EventBatch<S>,
  outbox: Outbox,
  concurrency: number,
  decide: (item: BatchItem<S>) => Promise<OutgoingEvent>,
): Promise<void> {
  const decided = await mapLimited(batch.items, concurrency, async (item) => {
    try {
      return { item, events: [await decide(item)] };
    } catch (error) {
      batch.retry(item, error instanceof Error ? error : new Error(String(error)));
      return { item, events: [] };
    }
  });
  await announceBatch(batch, outbox, decided);
}

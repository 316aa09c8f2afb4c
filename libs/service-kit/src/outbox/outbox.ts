import type { EventPublisher, OutgoingEvent } from '@sup/jetstream';
import type { Logger } from 'pino';
import type { OutboxRepository } from './outbox-repository';

/** How one event fared: on the stream now (or already), queued for the sweeper, or neither. */
export type Announcement =
  | { state: 'published'; duplicate: boolean }
  | { state: 'deferred'; error: Error }
  | { state: 'failed'; error: Error };

export interface OutboxOptions {
  /** How often the sweeper re-publishes what is queued. */
  sweepIntervalMs: number;
  /** Entries re-published per sweep. */
  sweepBatch: number;
}

/**
 * The one way a service announces what it decided. Events are published at once (pipelined,
 * compare-and-set on the entity's subject, so a second announcement of a decision is never stored
 * twice); an event that cannot be published is written to the outbox collection instead, and the
 * sweeper publishes it later. Either way the caller may acknowledge its input: the decision will
 * reach the stream. Only when both the publish and the outbox write fail must the caller retry.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(
    private readonly repository: OutboxRepository,
    private readonly publisher: EventPublisher,
    private readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>,
    private readonly options: OutboxOptions = { sweepIntervalMs: 5_000, sweepBatch: 500 },
  ) {}

  async announce(events: readonly OutgoingEvent[]): Promise<Announcement[]> {
    if (events.length === 0) return [];
    const outcomes = await this.publisher.publishAll(events);
    const failed = outcomes.flatMap((o) => (o.ok ? [] : [o]));
    if (failed.length === 0) {
      return outcomes.map((o) => ({ state: 'published', duplicate: o.ok && o.duplicate }));
    }
    let queueError: Error | undefined;
    try {
      const now = new Date();
      await this.repository.add(
        failed.map((f) => ({ _id: f.event.id, event: f.event, createdAt: now })),
      );
      this.logger.warn(
        { count: failed.length, err: failed[0].error },
        'publish failed; events queued in the outbox for the sweeper',
      );
    } catch (error) {
      queueError = error instanceof Error ? error : new Error(String(error));
      this.logger.error(
        { count: failed.length, err: queueError },
        'publish failed and the outbox could not take the events',
      );
    }
    return outcomes.map((o): Announcement => {
      if (o.ok) return { state: 'published', duplicate: o.duplicate };
      return queueError
        ? { state: 'failed', error: o.error }
        : { state: 'deferred', error: o.error };
    });
  }

  /** Re-publishes queued events, oldest first; safe on every replica at once. */
  async sweep(): Promise<{ published: number; remaining: number }> {
    const entries = await this.repository.list(this.options.sweepBatch);
    if (entries.length === 0) return { published: 0, remaining: 0 };
    const outcomes = await this.publisher.publishAll(entries.map((e) => e.event));
    const done = entries.filter((_, i) => outcomes[i].ok).map((e) => e._id);
    await this.repository.remove(done);
    if (done.length)
      this.logger.info({ published: done.length }, 'outbox sweep published queued events');
    return { published: done.length, remaining: entries.length - done.length };
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'outbox sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, this.options.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }
}

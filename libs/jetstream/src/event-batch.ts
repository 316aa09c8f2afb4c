import type { CloudEvent, Subject } from '@sup/contracts';

/** One message of a batch, already parsed and checked against its contract. */
export interface BatchItem<S extends Subject = Subject> {
  event: CloudEvent<S>;
  /** The wire subject, `<type>.<entity id>`. */
  subject: string;
  /** The entity the event is about (the subject's last token). */
  entityId: string;
  /** 1 on the first attempt. */
  deliveryCount: number;
  /** No retry follows this attempt: a failure now dead-letters the message. */
  finalAttempt: boolean;
}

export type ItemVerdict =
  | { outcome: 'ack' }
  | { outcome: 'retry'; error: Error }
  | { outcome: 'dead-letter'; error: Error };

/**
 * What an `@OnEvents` handler receives: many messages of one consumer at once, so it can make one
 * bulk write and pipeline its publishes. Every item the handler does not mark is acknowledged when
 * the handler resolves; `retry` and `deadLetter` settle one item without failing the others. A
 * handler that throws fails nothing yet: the transport runs each item again on its own, so a
 * poison message fails alone.
 */
export class EventBatch<S extends Subject = Subject> {
  private readonly verdicts = new Map<BatchItem<S>, ItemVerdict>();

  constructor(
    readonly type: S,
    readonly items: readonly BatchItem<S>[],
  ) {}

  /** Hand the item back for another attempt (after the consumer's back-off). */
  retry(item: BatchItem<S>, error: Error): void {
    this.verdicts.set(item, { outcome: 'retry', error });
  }

  /** Give up on the item now: it is published to the dead-letter subject with `error`. */
  deadLetter(item: BatchItem<S>, error: Error): void {
    this.verdicts.set(item, { outcome: 'dead-letter', error });
  }

  verdictOf(item: BatchItem<S>): ItemVerdict {
    return this.verdicts.get(item) ?? { outcome: 'ack' };
  }
}

import {
  buildEvent,
  ContractViolation,
  isSubject,
  type EventData,
  type Subject,
} from '@sup/contracts';
import type { JetStreamConnection } from './connection';
import { DEFAULT_PUBLISH_RETRY, publishWithRetry, type RetryPolicy } from './publish-retry';

export interface PublishOptions {
  /** Deterministic event id; also the JetStream message id, so a re-publish is de-duplicated. */
  id: string;
  /** The entity the event is about (update id, alert id, sync id): the correlation id in logs. */
  subject?: string;
}

export interface PublishResult {
  seq: number;
  /** True when JetStream already had a message with this id inside its duplicate window. */
  duplicate: boolean;
}

/** Publishes contract-checked CloudEvents and waits until JetStream has stored them. */
export class EventPublisher {
  constructor(
    private readonly connection: JetStreamConnection,
    /** CloudEvents `source`, e.g. `/services/checksum`. */
    readonly source: string,
    private readonly retry: RetryPolicy = DEFAULT_PUBLISH_RETRY,
  ) {}

  async publish<S extends Subject>(
    subject: S,
    data: EventData<S>,
    opts: PublishOptions,
  ): Promise<PublishResult> {
    if (!isSubject(subject))
      throw new ContractViolation(subject, ['not a subject of the contracts']);
    const event = buildEvent(subject, data, {
      id: opts.id,
      source: this.source,
      subject: opts.subject,
    });
    const ack = await publishWithRetry(
      this.connection.js,
      subject,
      JSON.stringify(event),
      opts.id,
      this.retry,
    );
    return { seq: ack.seq, duplicate: ack.duplicate };
  }
}

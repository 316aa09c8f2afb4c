import {
  buildEvent,
  ContractViolation,
  entitySubject,
  isSubject,
  type EventData,
  type Subject,
} from '@sup/contracts';
import type { JetStreamConnection } from './connection';
import { errorMessage } from './errors';
import {
  DEFAULT_PUBLISH_RETRY,
  publishWithRetry,
  type PublishAck,
  type RetryPolicy,
} from './publish-retry';

/** One event to publish on `<type>.<entityId>`. */
export interface OutgoingEvent<S extends Subject = Subject> {
  type: S;
  /** The entity the event is about (update, alert, sync, entry id): the subject's last token. */
  entityId: string;
  data: EventData<S>;
  /** Deterministic event id; also the JetStream message id. */
  id: string;
  /** Event time; defaults to now. Stored decisions keep the time they were decided. */
  time?: string;
  /**
   * A state report rather than a decision (fleet reports): stored even when its subject already
   * holds a message, which a stream keeping one message per subject then replaces. Retries stay
   * safe through the message id.
   */
  replaces?: true;
}

export type PublishResult = PublishAck;

export type PublishOutcome =
  ({ ok: true } & PublishResult) | { ok: false; error: Error; event: OutgoingEvent };

/** Publishes in flight at once by `publishAll`: enough to keep the link busy, bounded in memory. */
const DEFAULT_MAX_IN_FLIGHT = 256;

/**
 * Publishes contract-checked CloudEvents and waits until JetStream has stored them. Every publish
 * is a compare-and-set on the entity's subject (`Nats-Expected-Last-Subject-Sequence: 0`): the
 * first decision about an entity is the one the stream keeps, and a re-publish at any later time
 * (redelivery, outbox sweep, dead-letter replay) is reported as a duplicate instead of stored.
 */
export class EventPublisher {
  constructor(
    private readonly connection: JetStreamConnection,
    /** CloudEvents `source`, e.g. `/services/checksum`. */
    readonly source: string,
    private readonly retry: RetryPolicy = DEFAULT_PUBLISH_RETRY,
  ) {}

  /** The JSON text of the CloudEvent; throws ContractViolation for a payload that breaks its schema. */
  encode(event: OutgoingEvent): string {
    if (!isSubject(event.type))
      throw new ContractViolation(event.type, ['not a subject of the contracts']);
    return JSON.stringify(
      buildEvent(event.type, event.data, {
        id: event.id,
        source: this.source,
        subject: event.entityId,
        ...(event.time ? { time: new Date(event.time) } : {}),
      }),
    );
  }

  async publish<S extends Subject>(event: OutgoingEvent<S>): Promise<PublishResult> {
    return publishWithRetry(
      this.connection.js,
      entitySubject(event.type, event.entityId),
      this.encode(event),
      event.id,
      this.retry,
      { once: event.replaces !== true },
    );
  }

  /**
   * Publishes every event with at most `maxInFlight` awaiting their acknowledgement, and reports
   * each outcome in input order: one failure never hides the others' results.
   */
  async publishAll(
    events: readonly OutgoingEvent[],
    maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ): Promise<PublishOutcome[]> {
    const outcomes = new Array<PublishOutcome>(events.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < events.length; i = next++) {
        const event = events[i];
        try {
          outcomes[i] = { ok: true, ...(await this.publish(event)) };
        } catch (error) {
          outcomes[i] = {
            ok: false,
            event,
            error: error instanceof Error ? error : new Error(errorMessage(error)),
          };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxInFlight, events.length) }, worker));
    return outcomes;
  }
}

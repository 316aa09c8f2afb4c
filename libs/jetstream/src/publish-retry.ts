import { JetStreamApiError, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import { PublishError } from './errors';
import { sleep } from './nats-types';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_PUBLISH_RETRY: RetryPolicy = {
  attempts: 4,
  initialDelayMs: 200,
  maxDelayMs: 2_000,
};

/** JetStream's answer when `Nats-Expected-Last-Subject-Sequence` does not hold. */
export const WRONG_LAST_SEQUENCE = 10071;

// A lost PubAck (timeout), a JetStream leader election (no responders / 503) or a reconnect are
// worth another try; a closed connection or a rejection by the stream is not.
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'NoResponders',
  'JetStreamNotEnabled',
  'RequestError',
  'ConnectionError',
]);

export function isTransientPublishError(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.status === 503;
  return error instanceof Error && TRANSIENT_NAMES.has(error.name);
}

export interface PublishAttemptOptions {
  /**
   * Publish only if the subject holds no message yet (`Nats-Expected-Last-Subject-Sequence: 0`):
   * with one subject per entity this makes the stream itself the insert-once record of a decision.
   */
  once: boolean;
}

/** What JetStream said: stored now, or already there (same message id, or the subject was taken). */
export interface PublishAck {
  seq: number;
  duplicate: boolean;
}

/**
 * Retrying is safe because every publish carries a message id and, for decisions, the
 * compare-and-set: if the first attempt was stored and only its PubAck got lost, JetStream reports
 * the retry as a duplicate (or refuses it as `wrong last sequence`) instead of storing it twice.
 */
export async function publishWithRetry(
  js: JetStreamClient,
  subject: string,
  payload: string,
  msgID: string,
  policy: RetryPolicy = DEFAULT_PUBLISH_RETRY,
  options: PublishAttemptOptions = { once: false },
): Promise<PublishAck> {
  for (let attempt = 1; ; attempt++) {
    try {
      const ack: PubAck = await js.publish(subject, payload, {
        msgID,
        ...(options.once ? { expect: { lastSubjectSequence: 0 } } : {}),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      if (options.once && error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE)
        return { seq: 0, duplicate: true };
      if (attempt >= policy.attempts || !isTransientPublishError(error)) {
        throw new PublishError(subject, msgID, attempt, error);
      }
      const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}

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

/**
 * Retrying is safe because every publish carries a message id: if the first attempt was stored and
 * only its PubAck got lost, JetStream reports the retry as a duplicate instead of storing it twice.
 */
export async function publishWithRetry(
  js: JetStreamClient,
  subject: string,
  payload: string,
  msgID: string,
  policy: RetryPolicy = DEFAULT_PUBLISH_RETRY,
): Promise<PubAck> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.publish(subject, payload, { msgID });
    } catch (error) {
      if (attempt >= policy.attempts || !isTransientPublishError(error)) {
        throw new PublishError(subject, msgID, attempt, error);
      }
      const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}

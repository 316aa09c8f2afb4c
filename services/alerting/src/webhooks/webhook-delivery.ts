import type { WebhookSink } from '../config';
import {
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from './webhook-signature';

/** One alert event as a sink receives it: the CloudEvent's id, type and data. */
export interface WebhookMessage {
  id: string;
  type: string;
  body: string;
}

/** A sink that failed: its URL (configuration, not secret) and why. Never the secret. */
export class WebhookDeliveryError extends Error {
  constructor(readonly failures: { url: string; reason: string }[]) {
    super(
      `webhook delivery failed for ${failures.length} sink(s): ${failures
        .map((f) => `${f.url}: ${f.reason}`)
        .join('; ')}`,
    );
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * POSTs one message to every sink, each signed with its own secret, each bounded by `timeoutMs`.
 * Throws WebhookDeliveryError if any sink did not answer 2xx: the caller's redelivery (JetStream
 * back-off) retries, and the last attempt goes to the dead-letter stream. Redirects are not
 * followed (a 3xx is a failure): the configured URL is the one trusted.
 */
export async function deliverWebhook(
  sinks: readonly WebhookSink[],
  message: WebhookMessage,
  options: { timeoutMs: number; nowS?: () => number },
): Promise<void> {
  const failures: { url: string; reason: string }[] = [];
  await Promise.all(
    sinks.map(async (sink) => {
      const timestamp = options.nowS?.() ?? Math.floor(Date.now() / 1000);
      try {
        const res = await fetch(sink.url, {
          method: 'POST',
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
          headers: {
            'content-type': 'application/json',
            [EVENT_ID_HEADER]: message.id,
            [EVENT_TYPE_HEADER]: message.type,
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signWebhook(sink.secret, timestamp, message.body),
          },
          body: message.body,
        });
        // The answer's body is not needed; drop it so the connection is released.
        await res.body?.cancel();
        if (res.status < 200 || res.status > 299) {
          failures.push({ url: sink.url, reason: `HTTP ${res.status}` });
        }
      } catch (error) {
        const e = error as Error;
        const reason =
          e.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : e.message;
        failures.push({ url: sink.url, reason });
      }
    }),
  );
  if (failures.length > 0) throw new WebhookDeliveryError(failures);
}

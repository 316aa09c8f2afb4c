import type { JetStreamClient } from '@nats-io/jetstream';
import { dlqSubject } from '@sup/contracts';
import { publishWithRetry } from './publish-retry';

/** What lands on `dlq.v1.<service>.<subject>`: enough to understand the failure and to replay it. */
export interface DeadLetter {
  service: string;
  /** The durable consumer that gave up. */
  consumer: string;
  subject: string;
  streamSeq: number;
  deliveries: number;
  error: string;
  failedAt: string;
  /** The original message body, verbatim, so a replay publishes exactly what failed. */
  event: string;
}

export async function publishDeadLetter(js: JetStreamClient, letter: DeadLetter): Promise<void> {
  // One dead letter per stream message and consumer, even if the term after it is lost and the
  // message comes back once more.
  const msgId = `dlq:${letter.service}:${letter.consumer}:${letter.streamSeq}`;
  await publishWithRetry(
    js,
    dlqSubject(letter.service, letter.subject),
    JSON.stringify(letter),
    msgId,
  );
}

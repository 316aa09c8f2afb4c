import type { JetStreamClient } from '@nats-io/jetstream';
import {
  deadLetterMsgId,
  DeadLetterSchema,
  dlqSubject,
  type DeadLetter as DeadLetterContract,
} from '@sup/contracts';
import { publishWithRetry } from './publish-retry';

/**
 * What lands on `dlq.v1.<service>.<subject>`: enough to understand the failure and to replay it.
 * `originalSubject`, when set, is the subject the message itself was published on (`subject` may
 * then be what the consumer handled, e.g. its `<type>.*` filter); a replay publishes there, and
 * letters without it fall back to `subject`.
 */
export type DeadLetter = DeadLetterContract;

const LetterSchema = DeadLetterSchema;

/** The dead letter in a DLQ message body, or the reasons it is not one. */
export function parseDeadLetter(
  body: string,
): { ok: true; letter: DeadLetter } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = LetterSchema.safeParse(json);
  if (parsed.success) return { ok: true, letter: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  return { ok: false, problem: issues.join('; ') };
}

/** Where the failed message was published, hence where a replay goes. */
export const wireSubject = (letter: DeadLetter): string => letter.originalSubject ?? letter.subject;

export async function publishDeadLetter(js: JetStreamClient, letter: DeadLetter): Promise<void> {
  // One dead letter per stream message and consumer, even if the term after it is lost and the
  // message comes back once more.
  await publishWithRetry(
    js,
    dlqSubject(letter.service, wireSubject(letter)),
    JSON.stringify(letter),
    deadLetterMsgId(letter.service, letter.consumer, letter.streamSeq),
  );
}

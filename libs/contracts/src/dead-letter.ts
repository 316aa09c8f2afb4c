import { z } from 'zod';
import { DLQ_PREFIX } from './subjects';

/** `dlq.v1.{service}.{subject}`: `{subject}` is the original subject, dots included. */
export const DLQ_SUBJECT_PATTERN = `${DLQ_PREFIX}.{service}.{subject}`;

/** What lands on `dlq.v1.<service>.<original subject>` once a consumer gives up on a message. */
export const DeadLetterSchema = z.object({
  service: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .describe('The service whose consumer gave up, e.g. "checksum".'),
  consumer: z.string().min(1).describe('The durable consumer that gave up.'),
  subject: z.string().min(1).describe('The subject the message was published on.'),
  originalSubject: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Where a replay publishes the event (the original wire subject, `<type>.<entity id>`).',
    ),
  streamSeq: z.number().int().positive().describe('Sequence of the message in its stream.'),
  deliveries: z.number().int().positive().describe('How many times the message was delivered.'),
  error: z.string().describe('Why the last delivery failed.'),
  failedAt: z.string().datetime({ offset: true }),
  event: z
    .string()
    .describe(
      'The original message body, verbatim (normally the CloudEvent as JSON text), so a replay publishes exactly what failed.',
    ),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/** The `Nats-Msg-Id` of a dead letter: one per stream message and consumer. */
export const deadLetterMsgId = (service: string, consumer: string, streamSeq: number): string =>
  `dlq:${service}:${consumer}:${streamSeq}`;

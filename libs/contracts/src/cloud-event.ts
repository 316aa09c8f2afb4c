import { z } from 'zod';
import { EVENT_SCHEMAS, type EventData } from './events';
import { ALL_SUBJECTS, type Subject } from './subjects';

export const EVENT_TYPE_PREFIX = 'io.signed-update-pipeline.';
export const eventType = (subject: Subject): string => `${EVENT_TYPE_PREFIX}${subject}`;

/** CloudEvents 1.0, JSON structured mode. */
export interface CloudEvent<S extends Subject = Subject> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  data: EventData<S>;
}

const EnvelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(256),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().optional(),
  time: z.string().datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  data: z.unknown(),
});

/** Thrown when an event breaks its contract; never worth retrying. */
export class ContractViolation extends Error {
  constructor(
    readonly subject: string,
    readonly issues: string[],
  ) {
    super(`event on ${subject} breaks its contract: ${issues.join('; ')}`);
    this.name = 'ContractViolation';
  }
}

const describe = (error: z.ZodError): string[] =>
  error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);

export function isSubject(value: string): value is Subject {
  return (ALL_SUBJECTS as readonly string[]).includes(value);
}

export function validateEventData<S extends Subject>(subject: S, data: unknown): EventData<S> {
  const parsed = EVENT_SCHEMAS[subject].safeParse(data);
  if (!parsed.success) throw new ContractViolation(subject, describe(parsed.error));
  return parsed.data;
}

export interface BuildEventOptions {
  /** Deterministic id; also the JetStream `Nats-Msg-Id`, so a re-publish after a crash is deduplicated. */
  id: string;
  /** The emitting service, e.g. `/services/checksum`. */
  source: string;
  /** The entity the event is about (update id, alert id, sync id): the correlation id in logs. */
  subject?: string;
  time?: Date;
}

export function buildEvent<S extends Subject>(
  subject: S,
  data: EventData<S>,
  options: BuildEventOptions,
): CloudEvent<S> {
  return {
    specversion: '1.0',
    id: options.id,
    source: options.source,
    type: eventType(subject),
    ...(options.subject ? { subject: options.subject } : {}),
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data: validateEventData(subject, data),
  };
}

/** Validates the envelope, that its `type` matches the subject it arrived on, and the payload. */
export function parseEvent<S extends Subject>(subject: S, raw: unknown): CloudEvent<S> {
  const envelope = EnvelopeSchema.safeParse(raw);
  if (!envelope.success) throw new ContractViolation(subject, describe(envelope.error));
  if (envelope.data.type !== eventType(subject)) {
    throw new ContractViolation(subject, [
      `type: expected ${eventType(subject)}, got ${envelope.data.type}`,
    ]);
  }
  return { ...envelope.data, data: validateEventData(subject, envelope.data.data) };
}

export const eventId = (subject: Subject, key: string): string => `${key}:${subject}`;

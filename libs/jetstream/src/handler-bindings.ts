import type { MessageHandler } from '@nestjs/microservices';
import { isSubject, type Subject } from '@sup/contracts';
import { durableName } from './consumer-config';
import { DEFAULT_CONSUMER } from './on-event';
import { streamForSubject } from './streams';

/** One registered handler and the durable consumer that feeds it. */
export interface HandlerBinding {
  subject: Subject;
  consumer: string;
  durable: string;
  stream: string;
  handler: MessageHandler;
  /** The handler takes an `EventBatch` (`@OnEvents`). */
  batch: boolean;
}

/** Nest normalises `{subject, consumer}` to a JSON-like key; a plain `@EventPattern(subject)` is its subject. */
function parseRoute(key: string): { subject: string; consumer: string; batch: boolean } {
  if (!key.startsWith('{')) return { subject: key, consumer: DEFAULT_CONSUMER, batch: false };
  const parsed = JSON.parse(key) as { subject?: unknown; consumer?: unknown; batch?: unknown };
  return {
    subject: typeof parsed.subject === 'string' ? parsed.subject : '',
    consumer: typeof parsed.consumer === 'string' ? parsed.consumer : DEFAULT_CONSUMER,
    batch: parsed.batch === true,
  };
}

export function bindHandlers(
  service: string,
  handlers: Map<string, MessageHandler>,
): HandlerBinding[] {
  const bindings: HandlerBinding[] = [];
  for (const [key, handler] of handlers) {
    if (!handler.isEventHandler) {
      throw new Error(`JetStreamServer only delivers events; ${key} is a request/reply pattern`);
    }
    const { subject, consumer, batch } = parseRoute(key);
    if (!isSubject(subject))
      throw new Error(`handler pattern ${key} does not name a contract subject`);
    const durable = durableName(service, consumer, subject);
    if (bindings.some((b) => b.durable === durable)) {
      // Two handlers pulling one durable would each see a random share of the messages.
      throw new Error(
        `two handler patterns map to the durable consumer ${durable}; give one a consumer name`,
      );
    }
    bindings.push({
      subject,
      consumer,
      durable,
      stream: streamForSubject(subject).name,
      handler,
      batch,
    });
  }
  return bindings;
}

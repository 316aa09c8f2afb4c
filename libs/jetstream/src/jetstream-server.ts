import { performance } from 'node:perf_hooks';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import {
  ContractViolation,
  isSubject,
  parseEvent,
  type CloudEvent,
  type Subject,
} from '@sup/contracts';
import { lastValueFrom } from 'rxjs';
import type { JetStreamConnection } from './connection';
import { backoffFor, consumerConfig, durableName, ensureConsumer } from './consumer-config';
import { ConsumerRunner } from './consumer-runner';
import { publishDeadLetter } from './dead-letter';
import { errorMessage, PermanentError, toError } from './errors';
import { JetStreamEventContext } from './event-context';
import { defaultLogger, type JetStreamLogger } from './logger';
import { DEFAULT_CONSUMER, handlerFailures } from './on-event';
import { streamForSubject } from './streams';

export interface JetStreamServerOptions {
  /** Handler attempts before the message is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Delay before retry n after failure n (last entry repeats). Default [1000, 5000, 15000, 30000]. */
  backoffMs?: number[];
  /** Ack wait; a running handler renews it every third of it. Default 30000. */
  ackWaitMs?: number;
  /** Handlers running at once per consumer in this replica. Default 4. */
  concurrency?: number;
  /** Unsettled messages per durable across all replicas (incl. those backing off). Default 1000. */
  maxAckPending?: number;
  /** How long close() waits for running handlers before handing their messages back. Default 25000. */
  drainTimeoutMs?: number;
  /** Pull request lifetime. Default 30000 (minimum 1000). */
  pullExpiresMs?: number;
  logger?: JetStreamLogger;
}

type Settings = Required<Omit<JetStreamServerOptions, 'logger'>>;

const DEFAULTS: Settings = {
  maxDeliver: 5,
  backoffMs: [1_000, 5_000, 15_000, 30_000],
  ackWaitMs: 30_000,
  concurrency: 4,
  maxAckPending: 1_000,
  drainTimeoutMs: 25_000,
  pullExpiresMs: 30_000,
};

export const JETSTREAM_TRANSPORT = Symbol('JETSTREAM_TRANSPORT');

type Outcome = 'ack' | 'nak' | 'dead-letter';
type Decision =
  | { outcome: 'ack' }
  | { outcome: 'nak'; error: Error; delayMs: number }
  | { outcome: 'dead-letter'; error: Error };

interface Binding {
  subject: Subject;
  consumer: string;
  durable: string;
  stream: string;
  handler: MessageHandler;
}

interface Delivery {
  msg: JsMsg;
  binding: Binding;
  startedAt: number;
  /** Set by whoever settles the message first: the handler path or the shutdown release. */
  settled: boolean;
  eventId?: string;
  correlationId?: string;
}

function validate(s: Settings): Settings {
  const positiveInt = (name: keyof Settings, min = 1): void => {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new Error(`JetStreamServer: ${name} must be an integer >= ${min}, got ${String(v)}`);
    }
  };
  positiveInt('maxDeliver');
  positiveInt('concurrency');
  positiveInt('maxAckPending', s.concurrency);
  positiveInt('ackWaitMs', 100);
  positiveInt('drainTimeoutMs', 0);
  positiveInt('pullExpiresMs', 1_000);
  if (s.backoffMs.length === 0 || s.backoffMs.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new Error(
      `JetStreamServer: backoffMs must be non-negative numbers, got [${s.backoffMs.join(', ')}]`,
    );
  }
  return s;
}

/** Nest normalises `{subject, consumer}` to a JSON-like key; a plain `@EventPattern(subject)` is its subject. */
function parseRoute(key: string): { subject: string; consumer: string } {
  if (!key.startsWith('{')) return { subject: key, consumer: DEFAULT_CONSUMER };
  const parsed = JSON.parse(key) as { subject?: unknown; consumer?: unknown };
  return {
    subject: typeof parsed.subject === 'string' ? parsed.subject : '',
    consumer: typeof parsed.consumer === 'string' ? parsed.consumer : DEFAULT_CONSUMER,
  };
}

function idOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const id = (json as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * NestJS transport over JetStream pull consumers: one durable per `@OnEvent` handler, shared by all
 * replicas of the service. Delivery is at least once: a handler is acked only after it resolves, so
 * handlers must be idempotent.
 */
export class JetStreamServer extends Server implements CustomTransportStrategy {
  override readonly transportId = JETSTREAM_TRANSPORT;
  private readonly settings: Settings;
  private readonly log: JetStreamLogger;
  private readonly runners: ConsumerRunner[] = [];
  private readonly deliveries = new Set<Delivery>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly connection: JetStreamConnection,
    options: JetStreamServerOptions = {},
  ) {
    super();
    const { logger, ...rest } = options;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
    this.settings = validate({ ...DEFAULTS, ...defined });
    this.log = logger ?? defaultLogger(connection.service);
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    void this.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Stops pulling, lets running handlers finish (up to drainTimeoutMs), then returns. */
  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    await this.closing;
  }

  on(): never {
    throw new Error('JetStreamServer emits no events; outcomes are logged per message');
  }

  unwrap<T>(): T {
    return this.connection.nc as T;
  }

  private bindings(): Binding[] {
    const bindings: Binding[] = [];
    for (const [key, handler] of this.getHandlers()) {
      if (!handler.isEventHandler) {
        throw new Error(`JetStreamServer only delivers events; ${key} is a request/reply pattern`);
      }
      const { subject, consumer } = parseRoute(key);
      if (!isSubject(subject))
        throw new Error(`handler pattern ${key} does not name a contract subject`);
      const durable = durableName(this.connection.service, consumer, subject);
      if (bindings.some((b) => b.durable === durable)) {
        // Two handlers pulling one durable would each see a random half of the messages.
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
      });
    }
    return bindings;
  }

  private async start(): Promise<void> {
    const bindings = this.bindings();
    const { jsm, js } = this.connection;
    for (const binding of bindings) {
      const config = consumerConfig(
        binding.durable,
        binding.subject,
        `${this.connection.service}: ${binding.consumer} handler of ${binding.subject}`,
        this.settings,
      );
      const refresh = async (): Promise<Consumer> =>
        js.consumers.getConsumerFromInfo(await ensureConsumer(jsm, binding.stream, config));
      const runner: ConsumerRunner = new ConsumerRunner(
        binding.durable,
        await refresh(),
        {
          concurrency: this.settings.concurrency,
          pullExpiresMs: this.settings.pullExpiresMs,
          logger: this.log,
          refresh,
          connectionGone: () => this.connection.nc.isClosed() || this.connection.nc.isDraining(),
        },
        (msg): Promise<void> => this.deliver(runner, binding, msg),
      );
      this.runners.push(runner);
    }
    if (this.closing) return;
    for (const runner of this.runners) runner.start();
    this.log.info(
      { consumers: bindings.map((b) => b.durable), concurrency: this.settings.concurrency },
      bindings.length ? 'jetstream consumers started' : 'jetstream server has no @OnEvent handlers',
    );
  }

  private async shutdown(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stopPulling()));
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(this.runners.map((r) => r.idle())).then(() => true),
      new Promise<boolean>(
        (resolve) => (timer = setTimeout(() => resolve(false), this.settings.drainTimeoutMs)),
      ),
    ]);
    clearTimeout(timer);
    if (!drained) {
      // Hand the messages back now rather than after the ack wait, so another replica starts at once.
      for (const delivery of this.deliveries) {
        this.release(
          delivery,
          `handler still running after the ${this.settings.drainTimeoutMs} ms drain timeout`,
        );
      }
    }
    this.log.info(
      { drained, released: drained ? 0 : this.deliveries.size },
      'jetstream consumers stopped',
    );
  }

  private async deliver(runner: ConsumerRunner, binding: Binding, msg: JsMsg): Promise<void> {
    const delivery: Delivery = { msg, binding, startedAt: performance.now(), settled: false };
    if (runner.isStopping) {
      this.release(delivery, 'received while the server was closing');
      return;
    }
    this.deliveries.add(delivery);
    const heartbeat = setInterval(
      () => {
        if (!delivery.settled) msg.working();
      },
      Math.max(50, Math.floor(this.settings.ackWaitMs / 3)),
    );
    heartbeat.unref();
    try {
      await this.settle(delivery, await this.decide(delivery));
    } catch (error) {
      // decide/settle catch everything they expect; this is a bug guard so one message cannot stall
      // the consumer: the ack timer will hand the message back.
      this.log.error(
        { consumer: binding.durable, streamSeq: msg.seq, err: error },
        'delivery crashed',
      );
    } finally {
      clearInterval(heartbeat);
      this.deliveries.delete(delivery);
    }
  }

  private async decide(delivery: Delivery): Promise<Decision> {
    const { msg, binding } = delivery;
    const { maxDeliver, backoffMs } = this.settings;
    const attempt = msg.info.deliveryCount;

    let event: CloudEvent;
    try {
      let json: unknown;
      try {
        json = JSON.parse(msg.string());
      } catch (error) {
        throw new ContractViolation(binding.subject, [`not JSON: ${errorMessage(error)}`]);
      }
      delivery.eventId = idOf(json);
      event = parseEvent(binding.subject, json);
    } catch (error) {
      return { outcome: 'dead-letter', error: toError(error) };
    }
    delivery.correlationId = event.subject;

    if (attempt > maxDeliver) {
      return {
        outcome: 'dead-letter',
        error: new Error(
          `delivery ${attempt} exceeds maxDeliver ${maxDeliver}: the previous attempt never settled (replica died or ack wait expired)`,
        ),
      };
    }
    try {
      await this.invoke(binding.handler, event, new JetStreamEventContext(msg, binding.durable));
      return { outcome: 'ack' };
    } catch (thrown) {
      const error = toError(thrown);
      if (
        error instanceof PermanentError ||
        error instanceof ContractViolation ||
        attempt >= maxDeliver
      ) {
        return { outcome: 'dead-letter', error };
      }
      return { outcome: 'nak', error, delayMs: backoffFor(backoffMs, attempt) };
    }
  }

  private async invoke(
    handler: MessageHandler,
    event: CloudEvent,
    ctx: JetStreamEventContext,
  ): Promise<void> {
    const failures: unknown[] = [];
    try {
      await handlerFailures.run(failures, async () => {
        const result: unknown = await handler(event, ctx);
        await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
      });
    } catch (error) {
      // Prefer the handler's own error over whatever Nest's exception filters made of it.
      throw failures.length > 0 ? failures[0] : error;
    }
    if (failures.length > 0) throw failures[0];
  }

  private async settle(delivery: Delivery, decision: Decision): Promise<void> {
    // A delivery released at shutdown was nak'd and logged then; it belongs to another replica now.
    if (delivery.settled) return;
    const { msg, binding } = delivery;
    switch (decision.outcome) {
      case 'ack': {
        delivery.settled = true;
        let ackError: Error | undefined;
        try {
          if (!(await msg.ackAck())) ackError = new Error('ack was not confirmed by the server');
        } catch (error) {
          ackError = new Error(`ack was not confirmed by the server: ${errorMessage(error)}`);
        }
        // An unconfirmed ack means a probable redelivery, which idempotent handlers absorb.
        this.record(delivery, 'ack', ackError);
        return;
      }
      case 'nak':
        delivery.settled = true;
        msg.nak(decision.delayMs);
        this.record(delivery, 'nak', decision.error);
        return;
      case 'dead-letter': {
        try {
          await publishDeadLetter(this.connection.js, {
            service: this.connection.service,
            consumer: binding.durable,
            subject: binding.subject,
            streamSeq: msg.seq,
            deliveries: msg.info.deliveryCount,
            error: decision.error.message,
            failedAt: new Date().toISOString(),
            event: msg.string(),
          });
        } catch (dlqError) {
          if (delivery.settled) return;
          // Never term what is not safely in the DLQ: retry the whole message later instead.
          delivery.settled = true;
          msg.nak(backoffFor(this.settings.backoffMs, msg.info.deliveryCount));
          this.record(
            delivery,
            'nak',
            new Error(
              `dead letter not stored (${errorMessage(dlqError)}); original error: ${decision.error.message}`,
            ),
          );
          return;
        }
        if (delivery.settled) return;
        delivery.settled = true;
        msg.term();
        this.record(delivery, 'dead-letter', decision.error);
        return;
      }
    }
  }

  private release(delivery: Delivery, reason: string): void {
    if (delivery.settled) return;
    delivery.settled = true;
    delivery.msg.nak();
    this.record(delivery, 'nak', new Error(`released: ${reason}`));
  }

  /** The one log line per message. */
  private record(delivery: Delivery, outcome: Outcome, err?: Error): void {
    const { msg, binding } = delivery;
    const line = {
      subject: binding.subject,
      consumer: binding.durable,
      streamSeq: msg.seq,
      eventId: delivery.eventId,
      correlationId: delivery.correlationId,
      deliveryCount: msg.info.deliveryCount,
      outcome,
      durationMs: Math.round(performance.now() - delivery.startedAt),
      ...(err ? { err } : {}),
    };
    if (outcome === 'dead-letter') this.log.error(line, 'event dead-lettered');
    else if (outcome === 'nak' || err) this.log.warn(line, `event ${outcome}`);
    else this.log.info(line, 'event handled');
  }
}

import { performance } from 'node:perf_hooks';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import {
  ContractViolation,
  parseEntitySubject,
  parseEvent,
  typeFilter,
  type CloudEvent,
} from '@sup/contracts';
import { lastValueFrom } from 'rxjs';
import type { JetStreamConnection } from './connection';
import { backoffFor, consumerConfig, ensureConsumer } from './consumer-config';
import { BatchRunner } from './batch-runner';
import { ConsumerRunner } from './consumer-runner';
import { EventBatch, type BatchItem, type ItemVerdict } from './event-batch';
import { publishDeadLetter } from './dead-letter';
import { errorMessage, PermanentError, toError } from './errors';
import { JetStreamEventContext } from './event-context';
import { defaultLogger, type JetStreamLogger } from './logger';
import { bindHandlers, type HandlerBinding } from './handler-bindings';
import { handlerFailures } from './on-event';
import {
  resolveSettings,
  type JetStreamServerOptions,
  type ServerSettings,
} from './server-options';

export type { JetStreamServerOptions };

export const JETSTREAM_TRANSPORT = Symbol('JETSTREAM_TRANSPORT');

type Outcome = 'ack' | 'nak' | 'dead-letter';
type Decision =
  | { outcome: 'ack' }
  | { outcome: 'nak'; error: Error; delayMs: number }
  | { outcome: 'dead-letter'; error: Error };

interface Delivery {
  msg: JsMsg;
  binding: HandlerBinding;
  startedAt: number;
  /** Set by whoever settles the message first: the handler path or the shutdown release. */
  settled: boolean;
  eventId?: string;
  correlationId?: string;
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
  private readonly settings: ServerSettings;
  private readonly log: JetStreamLogger;
  private readonly runners: (ConsumerRunner | BatchRunner)[] = [];
  private readonly deliveries = new Set<Delivery>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly connection: JetStreamConnection,
    options: JetStreamServerOptions = {},
  ) {
    super();
    const { logger, ...rest } = options;
    this.settings = resolveSettings(rest);
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

  private async start(): Promise<void> {
    const bindings = bindHandlers(this.connection.service, this.getHandlers());
    const { jsm, js } = this.connection;
    for (const binding of bindings) {
      const config = consumerConfig(
        binding.durable,
        typeFilter(binding.subject),
        `${this.connection.service}: ${binding.consumer} handler of ${binding.subject}`,
        this.settings,
      );
      const refresh = async (): Promise<Consumer> =>
        js.consumers.getConsumerFromInfo(await ensureConsumer(jsm, binding.stream, config));
      const connectionGone = (): boolean =>
        this.connection.nc.isClosed() || this.connection.nc.isDraining();
      if (binding.batch) {
        const runner: BatchRunner = new BatchRunner(
          binding.durable,
          await refresh(),
          {
            batchSize: this.settings.batchSize,
            batchWaitMs: this.settings.batchWaitMs,
            pullExpiresMs: this.settings.pullExpiresMs,
            logger: this.log,
            refresh,
            connectionGone,
          },
          (msgs): Promise<void> => this.deliverBatch(runner, binding, msgs),
        );
        this.runners.push(runner);
        continue;
      }
      const runner: ConsumerRunner = new ConsumerRunner(
        binding.durable,
        await refresh(),
        {
          concurrency: this.settings.concurrency,
          pullExpiresMs: this.settings.pullExpiresMs,
          logger: this.log,
          refresh,
          connectionGone,
        },
        (msg): Promise<void> => this.deliver(runner, binding, msg),
      );
      this.runners.push(runner);
    }
    if (this.closing) return;
    for (const runner of this.runners) runner.start();
    this.log.info(
      {
        consumers: bindings.map((b) => b.durable),
        concurrency: this.settings.concurrency,
        batchSize: this.settings.batchSize,
      },
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

  private async deliver(
    runner: ConsumerRunner,
    binding: HandlerBinding,
    msg: JsMsg,
  ): Promise<void> {
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

  /**
   * One batch: messages that break their contract (or outlived their deliveries) are dead-lettered
   * alone; the rest go to the handler at once. If the handler throws, each item is tried again on
   * its own, so one poison message cannot fail (or dead-letter) its neighbours.
   */
  private async deliverBatch(
    runner: BatchRunner,
    binding: HandlerBinding,
    msgs: JsMsg[],
  ): Promise<void> {
    const deliveries = msgs.map((msg): Delivery => ({
      msg,
      binding,
      startedAt: performance.now(),
      settled: false,
    }));
    if (runner.isStopping) {
      for (const d of deliveries) this.release(d, 'received while the server was closing');
      return;
    }
    for (const d of deliveries) this.deliveries.add(d);
    const heartbeat = setInterval(
      () => {
        for (const d of deliveries) if (!d.settled) d.msg.working();
      },
      Math.max(50, Math.floor(this.settings.ackWaitMs / 3)),
    );
    heartbeat.unref();
    try {
      const items: { item: BatchItem; delivery: Delivery }[] = [];
      for (const delivery of deliveries) {
        const parsed = this.parse(delivery);
        if ('error' in parsed) {
          await this.settle(delivery, { outcome: 'dead-letter', error: parsed.error });
          continue;
        }
        items.push({ item: parsed.item, delivery });
      }
      if (items.length > 0) await this.runBatch(binding, items);
      // The acks of the batch leave together; runBatch logged the batch.
      await this.connection.nc.flush().catch(() => undefined);
    } catch (error) {
      this.log.error({ consumer: binding.durable, err: error }, 'batch delivery crashed');
    } finally {
      clearInterval(heartbeat);
      for (const d of deliveries) this.deliveries.delete(d);
    }
  }

  private async runBatch(
    binding: HandlerBinding,
    items: { item: BatchItem; delivery: Delivery }[],
  ): Promise<void> {
    const batch = new EventBatch(
      binding.subject,
      items.map((i) => i.item),
    );
    try {
      await this.invoke(binding.handler, batch, undefined);
    } catch (thrown) {
      const error = toError(thrown);
      if (items.length > 1 && !(error instanceof PermanentError)) {
        this.log.warn(
          { consumer: binding.durable, size: items.length, err: error },
          'batch handler failed; trying each message on its own',
        );
        for (const one of items) await this.runBatch(binding, [one]);
        return;
      }
      for (const { item, delivery } of items) {
        await this.settle(delivery, this.verdictToDecision(item, { outcome: 'retry', error }));
      }
      return;
    }
    const acks: Delivery[] = [];
    for (const { item, delivery } of items) {
      const decision = this.verdictToDecision(item, batch.verdictOf(item));
      if (decision.outcome === 'ack') acks.push(delivery);
      else await this.settle(delivery, decision);
    }
    // Acks are fire-and-forget and flushed once per batch: an ack lost in transit only means a
    // redelivery, which idempotent handlers absorb.
    for (const delivery of acks) {
      if (delivery.settled) continue;
      delivery.settled = true;
      delivery.msg.ack();
    }
    if (acks.length) {
      this.log.info(
        {
          subject: binding.subject,
          consumer: binding.durable,
          acked: acks.length,
          firstStreamSeq: acks[0].msg.seq,
          durationMs: Math.round(performance.now() - acks[0].startedAt),
        },
        'events handled',
      );
    }
  }

  private verdictToDecision(item: BatchItem, verdict: ItemVerdict): Decision {
    switch (verdict.outcome) {
      case 'ack':
        return { outcome: 'ack' };
      case 'dead-letter':
        return { outcome: 'dead-letter', error: verdict.error };
      case 'retry':
        if (item.finalAttempt || verdict.error instanceof ContractViolation)
          return { outcome: 'dead-letter', error: verdict.error };
        if (verdict.error instanceof PermanentError)
          return { outcome: 'dead-letter', error: verdict.error };
        return {
          outcome: 'nak',
          error: verdict.error,
          delayMs: backoffFor(this.settings.backoffMs, item.deliveryCount),
        };
    }
  }

  /** Parses and checks one message of a batch; an error means it can only be dead-lettered. */
  private parse(delivery: Delivery): { item: BatchItem } | { error: Error } {
    const { msg, binding } = delivery;
    const { maxDeliver } = this.settings;
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
      return { error: toError(error) };
    }
    const entity = parseEntitySubject(msg.subject);
    if (!entity || entity.type !== binding.subject) {
      return {
        error: new ContractViolation(binding.subject, [
          `published on ${msg.subject}, not on ${binding.subject}.<entity id>`,
        ]),
      };
    }
    delivery.correlationId = event.subject ?? entity.entityId;
    const attempt = msg.info.deliveryCount;
    if (attempt > maxDeliver) {
      return {
        error: new Error(
          `delivery ${attempt} exceeds maxDeliver ${maxDeliver}: the previous attempt never settled (replica died or ack wait expired)`,
        ),
      };
    }
    return {
      item: {
        event,
        subject: msg.subject,
        entityId: entity.entityId,
        deliveryCount: attempt,
        finalAttempt: attempt >= maxDeliver,
      },
    };
  }

  private async decide(delivery: Delivery): Promise<Decision> {
    const parsed = this.parse(delivery);
    if ('error' in parsed) return { outcome: 'dead-letter', error: parsed.error };
    const { msg, binding } = delivery;
    try {
      await this.invoke(
        binding.handler,
        parsed.item.event,
        new JetStreamEventContext(msg, binding.durable),
      );
      return { outcome: 'ack' };
    } catch (thrown) {
      return this.verdictToDecision(parsed.item, { outcome: 'retry', error: toError(thrown) });
    }
  }

  private async invoke(
    handler: MessageHandler,
    event: CloudEvent | EventBatch,
    ctx: JetStreamEventContext | undefined,
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
            subject: msg.subject,
            originalSubject: msg.subject,
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

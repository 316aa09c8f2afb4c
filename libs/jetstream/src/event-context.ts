import type { JsMsg } from '@nats-io/jetstream';
import { BaseRpcContext } from '@nestjs/microservices';

/** What a handler can learn about (and do with) the JetStream message behind its event: `@Ctx()`. */
export class JetStreamEventContext extends BaseRpcContext<[JsMsg, string]> {
  constructor(msg: JsMsg, consumer: string) {
    super([msg, consumer]);
  }

  /** 1 on the first attempt; the handler is retried until `maxDeliver`. */
  get deliveryCount(): number {
    return this.args[0].info.deliveryCount;
  }

  get subject(): string {
    return this.args[0].subject;
  }

  get streamSeq(): number {
    return this.args[0].seq;
  }

  /** The durable consumer name. */
  get consumer(): string {
    return this.args[1];
  }

  /**
   * Resets the ack timer. The transport already does this every third of the ack wait while the
   * handler runs; call it to signal progress between long synchronous stretches that starve timers.
   */
  working(): void {
    this.args[0].working();
  }

  getMessage(): JsMsg {
    return this.args[0];
  }
}

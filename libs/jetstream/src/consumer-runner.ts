import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { JetStreamLogger } from './logger';
import { pauseAndRefresh, type RecoveryContext } from './pull-recovery';
import type { MessageBatch } from './nats-types';

export interface RunnerOptions {
  /** Messages this replica holds for the consumer at once. */
  concurrency: number;
  pullExpiresMs: number;
  logger: JetStreamLogger;
  /** Re-creates the durable (it may have been deleted) and returns a fresh handle to it. */
  refresh(): Promise<Consumer>;
  connectionGone(): boolean;
}

/**
 * Pulls one durable consumer. Each pull asks for exactly the free handler slots, so a replica never
 * holds more than `concurrency` messages: nothing waits in a local buffer while its ack timer runs,
 * and a message this replica cannot start yet stays on the server for an idle replica to take.
 * (`consume()` refills as messages arrive, not as they finish, so it cannot bound this.)
 */
export class ConsumerRunner {
  private stopping = false;
  private active = 0;
  private wake: (() => void) | undefined;
  private batch: MessageBatch | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));

  constructor(
    readonly durable: string,
    private consumer: Consumer,
    private readonly options: RunnerOptions,
    private readonly dispatch: (msg: JsMsg) => Promise<void>,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling; messages already received are still dispatched (and released by the server). */
  async stopPulling(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.wakeUp();
    if (this.batch) await this.batch.close();
    await this.loop;
  }

  /** Resolves when every dispatched message has settled. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private recovery(): RecoveryContext {
    return {
      durable: this.durable,
      logger: this.options.logger,
      refresh: () => this.options.refresh(),
      stopped: this.stopped,
      isStopping: () => this.stopping,
    };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      await this.freeSlot();
      if (this.stopping) break;
      try {
        const batch: MessageBatch = await this.consumer.fetch({
          max_messages: this.options.concurrency - this.active,
          expires: this.options.pullExpiresMs,
        });
        this.batch = batch;
        if (this.stopping) await batch.close();
        for await (const msg of batch) this.track(this.dispatch(msg));
        failures = 0;
      } catch (error) {
        if (this.stopping || this.options.connectionGone()) break;
        failures++;
        const fresh = await pauseAndRefresh(this.recovery(), failures, error, 'pull');
        if (this.stopping) break;
        if (fresh) this.consumer = fresh;
      } finally {
        this.batch = undefined;
      }
    }
  }

  private track(done: Promise<void>): void {
    this.active++;
    const settled = done
      .catch(() => undefined)
      .finally(() => {
        this.active--;
        this.inFlight.delete(settled);
        this.wakeUp();
      });
    this.inFlight.add(settled);
  }

  private async freeSlot(): Promise<void> {
    while (this.active >= this.options.concurrency && !this.stopping) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

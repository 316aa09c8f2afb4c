import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { MessageBatch } from './nats-types';
import { PullRunner, type PullRunnerOptions } from './pull-runner';

export interface RunnerOptions extends PullRunnerOptions {
  /** Messages this replica holds for the consumer at once. */
  concurrency: number;
}

/**
 * Pulls one durable consumer. Each pull asks for exactly the free handler slots, so a replica never
 * holds more than `concurrency` messages: nothing waits in a local buffer while its ack timer runs,
 * and a message this replica cannot start yet stays on the server for an idle replica to take.
 * (`consume()` refills as messages arrive, not as they finish, so it cannot bound this.)
 */
export class ConsumerRunner extends PullRunner<RunnerOptions> {
  private active = 0;
  private wake: (() => void) | undefined;
  private batch: MessageBatch | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    durable: string,
    consumer: Consumer,
    options: RunnerOptions,
    private readonly dispatch: (msg: JsMsg) => Promise<void>,
  ) {
    super(durable, consumer, options);
  }

  /** Messages already received are still dispatched (and released by the server). */
  protected async interrupt(): Promise<void> {
    this.wakeUp();
    if (this.batch) await this.batch.close();
  }

  /** Resolves when every dispatched message has settled. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  protected async run(): Promise<void> {
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
        if (!(await this.recover(failures, error, 'pull'))) break;
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

import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { PullRunner, type PullRunnerOptions } from './pull-runner';

export interface BatchRunnerOptions extends PullRunnerOptions {
  /** Most messages handed to one handler call. */
  batchSize: number;
  /**
   * How long to wait for more messages once one has arrived. 0 takes exactly what is already
   * buffered, so a quiet system adds no latency and a busy one still fills its batches.
   */
  batchWaitMs: number;
}

/** The consume() iterator, typed here because the package's type hides behind an internal path. */
interface MessageStream extends AsyncIterable<JsMsg> {
  close(): Promise<void | Error>;
}

const TIMEOUT = Symbol('timeout');

/**
 * Pulls one durable consumer continuously and hands its messages over in batches, one batch at a
 * time per replica: JetStream keeps at most `batchSize` messages buffered here, so the rest stay on
 * the server for another replica, and their ack timers do not run while a batch is handled.
 */
export class BatchRunner extends PullRunner<BatchRunnerOptions> {
  private stream: MessageStream | undefined;
  private current: Promise<void> = Promise.resolve();
  /** A read of the current stream started by `collect` and not yet taken into a batch. */
  private pending: Promise<IteratorResult<JsMsg>> | undefined;

  constructor(
    durable: string,
    consumer: Consumer,
    options: BatchRunnerOptions,
    private readonly dispatch: (msgs: JsMsg[]) => Promise<void>,
  ) {
    super(durable, consumer, options);
  }

  /** The batch being handled still finishes. */
  protected async interrupt(): Promise<void> {
    if (this.stream) await this.stream.close();
  }

  /** Resolves when the batch in hand has settled. */
  idle(): Promise<void> {
    return this.current;
  }

  protected async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const stream = (await this.consumer.consume({
          max_messages: this.options.batchSize,
          expires: this.options.pullExpiresMs,
        })) as unknown as MessageStream;
        this.stream = stream;
        // A read left over from a previous stream belongs to that stream, not this one.
        this.pending = undefined;
        if (this.stopping) {
          await stream.close();
          break;
        }
        const iterator = stream[Symbol.asyncIterator]();
        for (;;) {
          const batch = await this.collect(iterator);
          if (batch.length > 0) {
            this.current = this.dispatch(batch).catch(() => undefined);
            await this.current;
            failures = 0;
          }
          if (batch.done || this.stopping) break;
        }
        if (this.stopping) break;
        throw new Error('the consumer stopped delivering');
      } catch (error) {
        if (this.stopping || this.options.connectionGone()) break;
        failures++;
        await this.stream?.close().catch(() => undefined);
        if (!(await this.recover(failures, error, 'consume'))) break;
      } finally {
        this.stream = undefined;
      }
    }
  }

  /**
   * Waits for one message, then takes whatever else arrives within `batchWaitMs` (with 0: what is
   * already buffered, which resolves before a macrotask turn), up to `batchSize`.
   */
  private async collect(iterator: AsyncIterator<JsMsg>): Promise<JsMsg[] & { done?: boolean }> {
    const batch: JsMsg[] & { done?: boolean } = [];
    const first = await (this.pending ?? iterator.next());
    this.pending = undefined;
    if (first.done) {
      batch.done = true;
      return batch;
    }
    batch.push(first.value);
    const deadline = Date.now() + this.options.batchWaitMs;
    while (batch.length < this.options.batchSize && !this.stopping) {
      const next = iterator.next();
      this.pending = next;
      const waitMs = Math.max(0, deadline - Date.now());
      let cancel = (): void => undefined;
      const timeout = new Promise<typeof TIMEOUT>((resolve) => {
        if (waitMs > 0) {
          const timer = setTimeout(() => resolve(TIMEOUT), waitMs);
          cancel = () => clearTimeout(timer);
        } else {
          const immediate = setImmediate(() => resolve(TIMEOUT));
          cancel = () => clearImmediate(immediate);
        }
      });
      const result = await Promise.race([next, timeout]);
      cancel();
      if (result === TIMEOUT) break; // `pending` carries the next message into the next batch
      this.pending = undefined;
      if (result.done) {
        batch.done = true;
        break;
      }
      batch.push(result.value);
    }
    return batch;
  }
}

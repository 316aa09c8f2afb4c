import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { JetStreamLogger } from './logger';
import { pauseAndRefresh, type RecoveryContext } from './pull-recovery';

export interface BatchRunnerOptions {
  /** Most messages handed to one handler call. */
  batchSize: number;
  /**
   * How long to wait for more messages once one has arrived. 0 takes exactly what is already
   * buffered, so a quiet system adds no latency and a busy one still fills its batches.
   */
  batchWaitMs: number;
  pullExpiresMs: number;
  logger: JetStreamLogger;
  refresh(): Promise<Consumer>;
  connectionGone(): boolean;
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
export class BatchRunner {
  private stopping = false;
  private stream: MessageStream | undefined;
  private loop: Promise<void> = Promise.resolve();
  private current: Promise<void> = Promise.resolve();
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));

  constructor(
    readonly durable: string,
    private consumer: Consumer,
    private readonly options: BatchRunnerOptions,
    private readonly dispatch: (msgs: JsMsg[]) => Promise<void>,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling; the batch being handled still finishes. */
  async stopPulling(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    if (this.stream) await this.stream.close();
    await this.loop;
  }

  /** Resolves when the batch in hand has settled. */
  idle(): Promise<void> {
    return this.current;
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
      try {
        const stream = (await this.consumer.consume({
          max_messages: this.options.batchSize,
          expires: this.options.pullExpiresMs,
        })) as unknown as MessageStream;
        this.stream = stream;
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
        const fresh = await pauseAndRefresh(this.recovery(), failures, error, 'consume');
        if (this.stopping) break;
        if (fresh) this.consumer = fresh;
      } finally {
        this.stream = undefined;
      }
    }
  }

  private pending: Promise<IteratorResult<JsMsg>> | undefined;

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

import type { Consumer } from '@nats-io/jetstream';
import { errorMessage } from './errors';
import type { JetStreamLogger } from './logger';

/** What both pull runners need besides their own sizing. */
export interface PullRunnerOptions {
  pullExpiresMs: number;
  logger: JetStreamLogger;
  /** Re-creates the durable (it may have been deleted) and returns a fresh handle to it. */
  refresh(): Promise<Consumer>;
  connectionGone(): boolean;
}

/**
 * The life cycle shared by the per-message and the batch runner: start, stop (interrupting a pull
 * in progress), and recovery after a failed pull.
 */
export abstract class PullRunner<O extends PullRunnerOptions> {
  protected stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));

  constructor(
    readonly durable: string,
    protected consumer: Consumer,
    protected readonly options: O,
  ) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops pulling; what was already received is still handled. */
  async stopPulling(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    await this.interrupt();
    await this.loop;
  }

  /** Resolves when everything handed out has settled. */
  abstract idle(): Promise<void>;

  protected abstract run(): Promise<void>;

  /** Ends a pull that is waiting for messages, so the loop sees `stopping`. */
  protected abstract interrupt(): Promise<void>;

  /**
   * After a failed pull: waits an exponential pause (cut short by a stop), then re-creates the
   * durable and uses the fresh handle; when the refresh fails too the old handle is kept and the
   * next pull tries again. Returns false when the runner is stopping.
   */
  protected async recover(failures: number, error: unknown, what: string): Promise<boolean> {
    const pauseMs = Math.min(30_000, 250 * 2 ** failures);
    this.options.logger.warn(
      { consumer: this.durable, err: error, retryInMs: pauseMs },
      `${what} failed: ${errorMessage(error)}`,
    );
    await Promise.race([new Promise((r) => setTimeout(r, pauseMs).unref()), this.stopped]);
    if (this.stopping) return false;
    try {
      this.consumer = await this.options.refresh();
    } catch (refreshError) {
      this.options.logger.warn(
        { consumer: this.durable, err: refreshError },
        'consumer refresh failed',
      );
    }
    return !this.stopping;
  }
}

import type { Logger } from 'pino';

/**
 * Work a service repeats on an interval on every replica (sweeps, evaluations): one run at a time
 * per process (a slow run is never stacked under the next tick), failures logged and retried on
 * the next tick, the timer never keeping the process alive, and `stop()` waiting for the run in
 * flight. Replica safety is the work's own business (compare-and-set), not this timer's.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly what: string,
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs now unless a run is in flight; resolves when the current run ends. */
  runOnce(): Promise<void> {
    this.running ??= this.run()
      .then(() => undefined)
      .catch((err: unknown) => this.logger.warn({ err }, `${this.what} failed`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

import type { Consumer } from '@nats-io/jetstream';
import { errorMessage } from './errors';
import type { JetStreamLogger } from './logger';

export interface RecoveryContext {
  durable: string;
  logger: JetStreamLogger;
  refresh(): Promise<Consumer>;
  /** Resolves when the runner is asked to stop: the pause ends at once. */
  stopped: Promise<void>;
  isStopping(): boolean;
}

/**
 * After a failed pull: waits an exponential pause (cut short by a stop), then re-creates the
 * durable (it may have been deleted) and returns a fresh handle, or undefined when stopping or
 * when the refresh failed too (the caller keeps its old handle and tries again).
 */
export async function pauseAndRefresh(
  ctx: RecoveryContext,
  failures: number,
  error: unknown,
  what: string,
): Promise<Consumer | undefined> {
  const pauseMs = Math.min(30_000, 250 * 2 ** failures);
  ctx.logger.warn(
    { consumer: ctx.durable, err: error, retryInMs: pauseMs },
    `${what} failed: ${errorMessage(error)}`,
  );
  await Promise.race([new Promise((r) => setTimeout(r, pauseMs).unref()), ctx.stopped]);
  if (ctx.isStopping()) return undefined;
  try {
    return await ctx.refresh();
  } catch (refreshError) {
    ctx.logger.warn({ consumer: ctx.durable, err: refreshError }, 'consumer refresh failed');
    return undefined;
  }
}

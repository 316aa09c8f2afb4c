import type { JetStreamLogger } from './logger';

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
  /** Most messages an `@OnEvents` handler receives at once. Default 256. */
  batchSize?: number;
  /** How long a batch waits for more messages after the first (0: only what is buffered). Default 0. */
  batchWaitMs?: number;
  /** Pull request lifetime. Default 30000 (minimum 1000). */
  pullExpiresMs?: number;
  logger?: JetStreamLogger;
}

export type ServerSettings = Required<Omit<JetStreamServerOptions, 'logger'>>;

const DEFAULTS: ServerSettings = {
  maxDeliver: 5,
  backoffMs: [1_000, 5_000, 15_000, 30_000],
  ackWaitMs: 30_000,
  concurrency: 4,
  maxAckPending: 1_000,
  drainTimeoutMs: 25_000,
  pullExpiresMs: 30_000,
  batchSize: 256,
  batchWaitMs: 0,
};

/** Fails at construction, so a bad environment variable stops the service before it consumes anything. */
export function resolveSettings(options: Omit<JetStreamServerOptions, 'logger'>): ServerSettings {
  // Config objects spread into the options carry explicit `undefined`s; those mean "default".
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const s: ServerSettings = { ...DEFAULTS, ...given };
  const integer = (name: keyof ServerSettings, min: number): void => {
    const v = s[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new Error(`JetStreamServer: ${name} must be an integer >= ${min}, got ${String(v)}`);
    }
  };
  integer('maxDeliver', 1);
  integer('concurrency', 1);
  integer('maxAckPending', s.concurrency);
  integer('ackWaitMs', 100);
  integer('drainTimeoutMs', 0);
  integer('pullExpiresMs', 1_000);
  integer('batchSize', 1);
  integer('batchWaitMs', 0);
  if (s.backoffMs.length === 0 || s.backoffMs.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new Error(
      `JetStreamServer: backoffMs must be non-negative numbers, got [${s.backoffMs.join(', ')}]`,
    );
  }
  return s;
}

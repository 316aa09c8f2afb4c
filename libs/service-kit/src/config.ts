import { join, resolve } from 'node:path';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_STREAM_LIMITS,
  natsAuthFromEnv,
  NatsAuthError,
  natsAuthOptions,
  streamSettingsProblems,
  type NatsAuth,
  type StreamLimits,
} from '@sup/jetstream';
import { AuthEnvShape, toAuthConfig, type AuthConfig } from '@sup/auth';
import { z } from 'zod';

/** Raised when the environment is unusable; the message lists every bad variable at once. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(
      `${service}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        `See the configuration table in README.md.`,
    );
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const msList = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'must be a comma-separated list of milliseconds, e.g. "1000,5000,15000"')
  .transform((s) => s.split(',').map(Number));

const HOUR_MS = 3_600_000;
const CENTURY_H = 100 * 365 * 24;
type LimitedStream = keyof typeof DEFAULT_STREAM_LIMITS;
/** Per-stream retention, `JS_<STREAM>_MAX_AGE_H` and `JS_<STREAM>_MAX_BYTES`: 0 means no limit. */
const maxAgeH = (stream: LimitedStream) =>
  z.coerce
    .number()
    .int()
    .min(0)
    .max(CENTURY_H)
    .default(DEFAULT_STREAM_LIMITS[stream].maxAgeMs / HOUR_MS);
const maxBytes = (stream: LimitedStream) =>
  z.coerce.number().int().min(0).default(DEFAULT_STREAM_LIMITS[stream].maxBytes);
const StreamEnvShape = {
  JS_DUPLICATE_WINDOW_MS: positiveInt.max(CENTURY_H * HOUR_MS).default(DEFAULT_DUPLICATE_WINDOW_MS),
  JS_UPDATES_MAX_AGE_H: maxAgeH('UPDATES'),
  JS_UPDATES_MAX_BYTES: maxBytes('UPDATES'),
  JS_ALERTS_MAX_AGE_H: maxAgeH('ALERTS'),
  JS_ALERTS_MAX_BYTES: maxBytes('ALERTS'),
  JS_DLQ_MAX_AGE_H: maxAgeH('DLQ'),
  JS_DLQ_MAX_BYTES: maxBytes('DLQ'),
  JS_AUDIT_MAX_AGE_H: maxAgeH('AUDIT'),
  JS_AUDIT_MAX_BYTES: maxBytes('AUDIT'),
  JS_AUDIT_CHAIN_MAX_AGE_H: maxAgeH('AUDIT_CHAIN'),
  JS_AUDIT_CHAIN_MAX_BYTES: maxBytes('AUDIT_CHAIN'),
  JS_FLEET_MAX_AGE_H: maxAgeH('FLEET'),
  JS_FLEET_MAX_BYTES: maxBytes('FLEET'),
  JS_SYNCS_MAX_AGE_H: maxAgeH('SYNCS'),
  JS_SYNCS_MAX_BYTES: maxBytes('SYNCS'),
};

/** Settings every service shares. Service-specific schemas extend this one. */
export const BaseEnvSchema = z.object({
  NATS_URL: z
    .string()
    .regex(
      /^(nats|tls|wss?):\/\/\S+$/,
      'must be a NATS URL such as nats://127.0.0.1:4222 (comma-separate a cluster)',
    )
    .default('nats://127.0.0.1:4222'),
  // The service's own NATS user (npm start and the test harness make one per service). Unset:
  // no credentials, and the server's own configuration decides.
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a MongoDB URI such as mongodb://127.0.0.1:27017/')
    .default('mongodb://127.0.0.1:27017/'),
  MONGODB_DB_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/)
    .default('sup'),
  API_PORT: port.default(8080),
  HTTP_PORT: port.optional(),
  // Loopback unless told otherwise: a container or pod sets 0.0.0.0 (or its own address) explicitly.
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_JSON_LIMIT: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  // Node's own default (5 minutes for a whole request) would cut a large signed bundle uploaded
  // at a modest rate; slow-header attacks stay bounded by Node's separate headers timeout.
  HTTP_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .default(3_600_000),
  ...AuthEnvShape,
  DATA_DIR: z.string().min(1).default('.data'),
  ARTIFACT_STORE: z.enum(['fs', 'gridfs']).default('fs'),
  ARTIFACT_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  ...StreamEnvShape,
  JS_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
  JS_BACKOFF_MS: msList.default('1000,5000,15000,30000'),
  JS_ACK_WAIT_MS: positiveInt.default(30_000),
  JS_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  JS_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(256),
  JS_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(0),
  OUTBOX_SWEEP_MS: positiveInt.default(5_000),
  SHUTDOWN_GRACE_MS: positiveInt.default(20_000),
});
export type BaseEnv = z.infer<typeof BaseEnvSchema>;

export interface BaseConfig {
  service: string;
  natsUrl: string;
  /** The service's NATS user; undefined: connect without credentials. */
  natsAuth: NatsAuth | undefined;
  mongoUri: string;
  /** Each service owns its own database: `<prefix>-<service>`. */
  mongoDb: string;
  /** Database of the shared GridFS artifact store. */
  artifactDb: string;
  httpPort: number;
  httpHost: string;
  /** Largest JSON request body read (413 beyond). */
  httpJsonLimitBytes: number;
  /** Longest a whole request (an upload, say) may take before Node cuts it. */
  httpRequestTimeoutMs: number;
  /** Who may call the API: token file, OIDC, or (only when allowed) nobody. */
  auth: AuthConfig;
  dataDir: string;
  artifactStore: { driver: 'fs'; dir: string } | { driver: 'gridfs' };
  logLevel: BaseEnv['LOG_LEVEL'];
  jetstream: {
    replicas: number;
    maxDeliver: number;
    backoffMs: number[];
    ackWaitMs: number;
    concurrency: number;
    batchSize: number;
    batchWaitMs: number;
  };
  /** How often the outbox sweeper re-publishes events whose first publish failed. */
  outboxSweepMs: number;
  shutdownGraceMs: number;
  /** Every service creates or updates the streams at start-up with these. */
  streams: { duplicateWindowMs: number; limits: Record<string, StreamLimits> };
}

/**
 * The env schema bounds each value; what is left is the duplicate window against each max age,
 * checked here so the service stops with exit code 2 instead of failing half-started in JetStream.
 */
function streamsConfig(service: string, env: StreamSettingsEnv): BaseConfig['streams'] {
  const limits = (maxAgeH: number, maxBytes: number): StreamLimits => ({
    maxAgeMs: maxAgeH * HOUR_MS,
    maxBytes,
  });
  const streams = {
    duplicateWindowMs: env.JS_DUPLICATE_WINDOW_MS,
    limits: {
      UPDATES: limits(env.JS_UPDATES_MAX_AGE_H, env.JS_UPDATES_MAX_BYTES),
      ALERTS: limits(env.JS_ALERTS_MAX_AGE_H, env.JS_ALERTS_MAX_BYTES),
      DLQ: limits(env.JS_DLQ_MAX_AGE_H, env.JS_DLQ_MAX_BYTES),
      AUDIT: limits(env.JS_AUDIT_MAX_AGE_H, env.JS_AUDIT_MAX_BYTES),
      AUDIT_CHAIN: limits(env.JS_AUDIT_CHAIN_MAX_AGE_H, env.JS_AUDIT_CHAIN_MAX_BYTES),
      FLEET: limits(env.JS_FLEET_MAX_AGE_H, env.JS_FLEET_MAX_BYTES),
      SYNCS: limits(env.JS_SYNCS_MAX_AGE_H, env.JS_SYNCS_MAX_BYTES),
    },
  };
  const problems = streamSettingsProblems({ replicas: env.JS_REPLICAS, ...streams });
  if (problems.length > 0) {
    throw new ConfigError(
      service,
      problems.map((p) => `JS_DUPLICATE_WINDOW_MS: ${p}`),
    );
  }
  return streams;
}

/** Conflicting variables or an unreadable creds file stop the service with exit code 2. */
function natsAuthConfig(service: string, env: BaseEnv): NatsAuth | undefined {
  try {
    const { NATS_USER, NATS_PASSWORD, NATS_CREDS } = env;
    const auth = natsAuthFromEnv({ NATS_USER, NATS_PASSWORD, NATS_CREDS });
    natsAuthOptions(auth);
    return auth;
  } catch (error) {
    if (error instanceof NatsAuthError) throw new ConfigError(service, [error.message]);
    throw error;
  }
}

/** Only the variables that shape the streams. */
const StreamSettingsEnvSchema = z.object({
  JS_REPLICAS: BaseEnvSchema.shape.JS_REPLICAS,
  ...StreamEnvShape,
});
type StreamSettingsEnv = z.infer<typeof StreamSettingsEnvSchema>;

/**
 * The streams' settings from the environment, for `npm start`, which converges the streams as the
 * NATS admin before the services start (their own users may create a stream, not change one).
 */
export function loadStreamSettings(
  env: NodeJS.ProcessEnv,
): BaseConfig['streams'] & { replicas: number } {
  const parsed = parseEnv('streams', StreamSettingsEnvSchema, env);
  return { replicas: parsed.JS_REPLICAS, ...streamsConfig('streams', parsed) };
}

export function toBaseConfig(service: string, env: BaseEnv): BaseConfig {
  const dataDir = resolve(env.DATA_DIR);
  const auth = toAuthConfig(env);
  if (auth.problems.length > 0) throw new ConfigError(service, auth.problems);
  return {
    service,
    natsUrl: env.NATS_URL,
    natsAuth: natsAuthConfig(service, env),
    mongoUri: env.MONGODB_URI,
    mongoDb: `${env.MONGODB_DB_PREFIX}-${service}`,
    artifactDb: `${env.MONGODB_DB_PREFIX}-artifacts`,
    httpPort: env.HTTP_PORT ?? env.API_PORT,
    httpHost: env.HTTP_HOST,
    httpJsonLimitBytes: env.HTTP_JSON_LIMIT,
    httpRequestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    auth: auth.config,
    dataDir,
    artifactStore:
      env.ARTIFACT_STORE === 'gridfs'
        ? { driver: 'gridfs' }
        : { driver: 'fs', dir: resolve(env.ARTIFACT_DIR ?? join(dataDir, 'artifacts')) },
    logLevel: env.LOG_LEVEL,
    jetstream: {
      replicas: env.JS_REPLICAS,
      maxDeliver: env.JS_MAX_DELIVER,
      backoffMs: env.JS_BACKOFF_MS,
      ackWaitMs: env.JS_ACK_WAIT_MS,
      concurrency: env.JS_CONCURRENCY,
      batchSize: env.JS_BATCH_SIZE,
      batchWaitMs: env.JS_BATCH_WAIT_MS,
    },
    outboxSweepMs: env.OUTBOX_SWEEP_MS,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    streams: streamsConfig(service, env),
  };
}

/**
 * Parses the environment against a schema. Empty strings count as unset so that
 * `FOO= npm start` falls back to the default instead of failing on "".
 */
export function parseEnv<S extends z.ZodTypeAny>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      service,
      result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`),
    );
  }
  return result.data as z.infer<S>;
}

/** The whole configuration of a service that needs nothing beyond the shared settings. */
export const loadBaseConfig = (service: string, env: NodeJS.ProcessEnv): BaseConfig =>
  toBaseConfig(service, parseEnv(service, BaseEnvSchema, env));

import { AuthEnvShape, toAuthConfig, type AuthConfig } from '@sup/auth';
import { RelayGroupNameSchema, RelayIdSchema } from '@sup/contracts';
import { natsAuthFromEnv, NatsAuthError, natsAuthOptions, type NatsAuth } from '@sup/jetstream';
import {
  ConfigError,
  loadTrustConfig,
  parseEnv,
  TrustEnvShape,
  type TrustConfig,
} from '@sup/service-kit';
import { resolve } from 'node:path';
import { z } from 'zod';

/** The relay build it reports when RELAY_VERSION is unset (the repository's package version). */
export const DEFAULT_RELAY_VERSION = '0.1.0';

const port = z.coerce.number().int().min(1).max(65535);
const httpUrl = (what: string) =>
  z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, `must be an http(s) URL of ${what}`)
    .transform((u) => u.replace(/\/+$/, ''));
const MiB = 1024 ** 2;

/** `linux-x86_64` and the like, as fleet reports spell platforms. */
const hostPlatform = (): string =>
  `${process.platform}-${process.arch === 'x64' ? 'x86_64' : process.arch}`.toLowerCase();

const EnvSchema = z.object({
  RELAY_ID: RelayIdSchema,
  RELAY_GROUP: RelayGroupNameSchema,
  NATS_URL: z
    .string()
    .regex(/^(nats|tls|wss?):\/\/\S+$/, 'must be a NATS URL such as nats://127.0.0.1:4222')
    .default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_CREDS: z.string().optional(),
  HTTP_PORT: port.default(8090),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  RELAY_CACHE_DIR: z.string().min(1).default('.data/relay-cache'),
  RELAY_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(MiB)
    .default(10 * 1024 * MiB),
  ...TrustEnvShape,
  CONTROL_PLANE_URL: httpUrl('the control plane API, e.g. http://127.0.0.1:8080/v1'),
  RELAY_TOKEN: z.string({ required_error: 'is required: the bearer token of role relay' }).min(16),
  RELAY_PUBLIC_URL: httpUrl('this relay as agents reach it').optional(),
  RELAY_VERSION: z.string().min(1).max(64).default(DEFAULT_RELAY_VERSION),
  RELAY_PLATFORM: z
    .string()
    .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/)
    .max(64)
    .default(hostPlatform()),
  RELAY_REPORT_INTERVAL_MS: z.coerce.number().int().min(500).max(86_400_000).default(60_000),
  RELAY_CATALOG_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
  RELAY_DOWNLOAD_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  RELAY_DOWNLOAD_IDLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  ...AuthEnvShape,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JS_MAX_DELIVER: z.coerce.number().int().min(1).max(100).default(5),
  JS_BACKOFF_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be a comma-separated list of milliseconds')
    .default('1000,5000,15000,30000')
    .transform((s) => s.split(',').map(Number)),
  JS_ACK_WAIT_MS: z.coerce.number().int().positive().default(30_000),
  JS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(20_000),
});

export interface RelayConfig extends TrustConfig {
  service: 'relay';
  relayId: string;
  /** The group of its configuration; the control plane's assignment wins (GroupTracker). */
  configuredGroup: string;
  natsUrl: string;
  natsAuth: NatsAuth | undefined;
  httpPort: number;
  httpHost: string;
  cacheDir: string;
  cacheMaxBytes: number;
  controlPlaneUrl: string;
  relayToken: string;
  publicUrl: string;
  version: string;
  platform: string;
  reportIntervalMs: number;
  /** How long a fetched group catalog is reused (a burst of publications reads it once). */
  catalogTtlMs: number;
  downloadTimeoutMs: number;
  /** A download with no byte for this long is cut and resumed by the next delivery. */
  downloadIdleMs: number;
  auth: AuthConfig;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  jetstream: { maxDeliver: number; backoffMs: number[]; ackWaitMs: number; concurrency: number };
  shutdownGraceMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv): RelayConfig {
  const e = parseEnv('relay', EnvSchema, env);
  const problems: string[] = [];
  const auth = toAuthConfig(e);
  problems.push(...auth.problems);
  let natsAuth: NatsAuth | undefined;
  try {
    natsAuth = natsAuthFromEnv({
      NATS_USER: e.NATS_USER,
      NATS_PASSWORD: e.NATS_PASSWORD,
      NATS_CREDS: e.NATS_CREDS,
    });
    natsAuthOptions(natsAuth);
  } catch (error) {
    if (!(error instanceof NatsAuthError)) throw error;
    problems.push(error.message);
  }
  let trust: TrustConfig | undefined;
  try {
    trust = loadTrustConfig(e);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (problems.length > 0 || !trust) throw new ConfigError('relay', problems);
  return {
    ...trust,
    service: 'relay',
    relayId: e.RELAY_ID,
    configuredGroup: e.RELAY_GROUP,
    natsUrl: e.NATS_URL,
    natsAuth,
    httpPort: e.HTTP_PORT,
    httpHost: e.HTTP_HOST,
    cacheDir: resolve(e.RELAY_CACHE_DIR),
    cacheMaxBytes: e.RELAY_CACHE_MAX_BYTES,
    controlPlaneUrl: e.CONTROL_PLANE_URL,
    relayToken: e.RELAY_TOKEN,
    publicUrl: e.RELAY_PUBLIC_URL ?? `http://${e.HTTP_HOST}:${e.HTTP_PORT}/v1`,
    version: e.RELAY_VERSION,
    platform: e.RELAY_PLATFORM,
    reportIntervalMs: e.RELAY_REPORT_INTERVAL_MS,
    catalogTtlMs: e.RELAY_CATALOG_TTL_MS,
    downloadTimeoutMs: e.RELAY_DOWNLOAD_TIMEOUT_MS,
    downloadIdleMs: e.RELAY_DOWNLOAD_IDLE_MS,
    auth: auth.config,
    logLevel: e.LOG_LEVEL,
    jetstream: {
      maxDeliver: e.JS_MAX_DELIVER,
      backoffMs: e.JS_BACKOFF_MS,
      ackWaitMs: e.JS_ACK_WAIT_MS,
      concurrency: e.JS_CONCURRENCY,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  };
}

import {
  BaseEnvSchema,
  ConfigError,
  loadTrustConfig,
  TrustEnvShape,
  parseEnv,
  toBaseConfig,
  type BaseConfig,
  type TrustConfig,
} from '@sup/service-kit';
import { parseUrlPrefix, type UrlPrefix } from '@sup/feed';
import { join } from 'node:path';
import { z } from 'zod';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const EnvSchema = BaseEnvSchema.extend({
  FEED_URL: z
    .string()
    .regex(/^(file|https?):\/\/\S+$/, 'must be a file://, http:// or https:// URL of the feed base')
    .optional(),
  ...TrustEnvShape,
  FEED_MAX_ARTIFACT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * GiB),
  FEED_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  FEED_INDEX_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(64 * MiB)
    .default(8 * MiB),
  FEED_INDEX_SIGNATURE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(16 * MiB)
    .default(MiB),
  FEED_SYNC_INTERVAL_S: z.coerce.number().int().min(0).default(0),
  FEED_IMPORT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  FEED_ENTRY_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  FEED_SYNC_DEADLINE_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(2 * 60 * 60_000),
  FEED_SYNC_SWEEP_MS: z.coerce.number().int().positive().default(15_000),
  FEED_SYNC_RETENTION_H: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 24),
  IMPORT_MAX_FILE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * GiB),
  IMPORT_MAX_BUNDLE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(8 * GiB),
  IMPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(2),
  IMPORT_MIN_FREE_BYTES: z.coerce.number().int().nonnegative().default(GiB),
  FEED_ALLOWED_URL_PREFIXES: z
    .string()
    .regex(/^\S+(,\S+)*$/, 'must be a comma-separated list of URL prefixes')
    .optional(),
  FEED_ALLOW_FILE: z.enum(['true', 'false']).optional(),
});

export interface IngestConfig extends BaseConfig, TrustConfig {
  feedUrl?: string;
  maxArtifactBytes: number;
  feedTimeoutMs: number;
  /** index.json is cut off past this many bytes, before anything parses it. */
  indexMaxBytes: number;
  /** index.json.p7s is cut off past this many bytes. */
  indexSignatureMaxBytes: number;
  syncIntervalS: number;
  /** Entries of one batch fetched at once by one replica. */
  importConcurrency: number;
  /** One entry's whole download, however slowly its bytes arrive. */
  entryTimeoutMs: number;
  /** A sync ends by `requestedAt` + this, completed or failed. */
  syncDeadlineMs: number;
  /** How often every replica looks for syncs past their deadline. */
  syncSweepMs: number;
  /** How long sync records are kept (the KV bucket's TTL). */
  syncRetentionMs: number;
  /**
   * When set, `POST /v1/feeds/sync` only accepts URLs under one of these (scheme, host, port and
   * path segments compared); FEED_URL is always allowed.
   */
  allowedUrlPrefixes?: UrlPrefix[];
  /** file: feed URLs may be used (default: only when FEED_URL itself is a file: URL). */
  allowFile: boolean;
  uploadDir: string;
  /** Manual imports: caps per artifact and per bundle, uploads at once per replica, disk reserve. */
  importLimits: {
    maxFileBytes: number;
    maxBundleBytes: number;
    maxConcurrent: number;
    minFreeBytes: number;
  };
}

/** A URL the feed policy compares by parts; a readable start-up error naming the variable. */
function urlPrefix(variable: string, raw: string): UrlPrefix {
  try {
    return parseUrlPrefix(raw);
  } catch (error) {
    throw new Error(`${variable}: ${(error as Error).message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const parsed = parseEnv('ingest', EnvSchema, env);
  const base = toBaseConfig('ingest', parsed);
  try {
    // Checked here so that a FEED_URL the URL policy cannot read fails at start, not per sync.
    if (parsed.FEED_URL) urlPrefix('FEED_URL', parsed.FEED_URL);
    return {
      ...base,
      ...(parsed.FEED_URL ? { feedUrl: parsed.FEED_URL } : {}),
      ...loadTrustConfig(parsed),
      maxArtifactBytes: parsed.FEED_MAX_ARTIFACT_BYTES,
      feedTimeoutMs: parsed.FEED_TIMEOUT_MS,
      indexMaxBytes: parsed.FEED_INDEX_MAX_BYTES,
      indexSignatureMaxBytes: parsed.FEED_INDEX_SIGNATURE_MAX_BYTES,
      syncIntervalS: parsed.FEED_SYNC_INTERVAL_S,
      importConcurrency: parsed.FEED_IMPORT_CONCURRENCY,
      entryTimeoutMs: parsed.FEED_ENTRY_TIMEOUT_MS,
      syncDeadlineMs: parsed.FEED_SYNC_DEADLINE_MS,
      syncSweepMs: parsed.FEED_SYNC_SWEEP_MS,
      syncRetentionMs: parsed.FEED_SYNC_RETENTION_H * 3_600_000,
      ...(parsed.FEED_ALLOWED_URL_PREFIXES
        ? {
            allowedUrlPrefixes: parsed.FEED_ALLOWED_URL_PREFIXES.split(',').map((raw) =>
              urlPrefix('FEED_ALLOWED_URL_PREFIXES', raw),
            ),
          }
        : {}),
      allowFile: parsed.FEED_ALLOW_FILE
        ? parsed.FEED_ALLOW_FILE === 'true'
        : (parsed.FEED_URL?.startsWith('file:') ?? false),
      uploadDir: join(base.dataDir, 'uploads'),
      importLimits: {
        maxFileBytes: parsed.IMPORT_MAX_FILE_BYTES,
        maxBundleBytes: parsed.IMPORT_MAX_BUNDLE_BYTES,
        maxConcurrent: parsed.IMPORT_MAX_CONCURRENT,
        minFreeBytes: parsed.IMPORT_MIN_FREE_BYTES,
      },
    };
  } catch (error) {
    throw new ConfigError('ingest', [error instanceof Error ? error.message : String(error)]);
  }
}

import { readFileSync } from 'node:fs';
import {
  BaseEnvSchema,
  ConfigError,
  parseEnv,
  toBaseConfig,
  type BaseConfig,
} from '@sup/service-kit';
import { z } from 'zod';
import { RulesEnvSchema, toRulesConfig, type RulesConfig } from './rules/rules.config';

/** One webhook sink. The URL is trusted configuration; the secret signs every delivery. */
export interface WebhookSink {
  url: string;
  secret: string;
}

export interface AlertingConfig extends BaseConfig {
  rules: RulesConfig;
  /** How often every replica announces transitions a crash left unannounced. */
  announceSweepMs: number;
  webhooks: {
    sinks: WebhookSink[];
    /** The whole request to one sink, answer included. */
    timeoutMs: number;
  };
}

const EnvSchema = BaseEnvSchema.extend({
  /** JSON list of `{url, secret}`. */
  ALERT_WEBHOOKS: z.string().optional(),
  /** A file holding that JSON list (kept out of the environment, e.g. a mounted secret). */
  ALERT_WEBHOOKS_FILE: z.string().min(1).optional(),
  ALERT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  ALERT_ANNOUNCE_SWEEP_MS: z.coerce.number().int().min(100).max(86_400_000).default(30_000),
  ...RulesEnvSchema.shape,
});

const SinkSchema = z
  .object({
    url: z
      .string()
      .url()
      .refine((u) => ['http:', 'https:'].includes(new URL(u).protocol), {
        message: 'must be an http: or https: URL',
      }),
    // Long enough that a guessed secret cannot forge a signature.
    secret: z.string().min(16, 'must be at least 16 characters'),
  })
  .strict();
const SinksSchema = z.array(SinkSchema).max(20);

/**
 * The sinks from `ALERT_WEBHOOKS` or `ALERT_WEBHOOKS_FILE` (not both). Problems name the sink by
 * its position and the field, never the secret or the raw text (which holds the secrets).
 */
export function parseWebhookSinks(
  env: { ALERT_WEBHOOKS?: string; ALERT_WEBHOOKS_FILE?: string },
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): { sinks: WebhookSink[]; problems: string[] } {
  if (env.ALERT_WEBHOOKS && env.ALERT_WEBHOOKS_FILE) {
    return { sinks: [], problems: ['ALERT_WEBHOOKS and ALERT_WEBHOOKS_FILE: set one, not both'] };
  }
  const name = env.ALERT_WEBHOOKS_FILE ? 'ALERT_WEBHOOKS_FILE' : 'ALERT_WEBHOOKS';
  let text = env.ALERT_WEBHOOKS;
  if (env.ALERT_WEBHOOKS_FILE) {
    try {
      text = readFile(env.ALERT_WEBHOOKS_FILE);
    } catch (error) {
      return { sinks: [], problems: [`${name}: cannot read: ${(error as Error).message}`] };
    }
  }
  if (text === undefined || text.trim() === '') return { sinks: [], problems: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { sinks: [], problems: [`${name}: not JSON (expected a list of {url, secret})`] };
  }
  const parsed = SinksSchema.safeParse(json);
  if (!parsed.success) {
    return {
      sinks: [],
      problems: parsed.error.issues.map(
        (i) => `${name}${i.path.length ? `[${i.path.join('.')}]` : ''}: ${i.message}`,
      ),
    };
  }
  return { sinks: parsed.data, problems: [] };
}

export function loadConfig(env: NodeJS.ProcessEnv): AlertingConfig {
  const parsed = parseEnv('alerting', EnvSchema, env);
  const { sinks, problems } = parseWebhookSinks(parsed);
  if (problems.length > 0) throw new ConfigError('alerting', problems);
  return {
    ...toBaseConfig('alerting', parsed),
    webhooks: { sinks, timeoutMs: parsed.ALERT_WEBHOOK_TIMEOUT_MS },
    rules: toRulesConfig(parsed),
    announceSweepMs: parsed.ALERT_ANNOUNCE_SWEEP_MS,
  };
}

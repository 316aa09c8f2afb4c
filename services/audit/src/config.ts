import { BaseEnvSchema, parseEnv, toBaseConfig, type BaseConfig } from '@sup/service-kit';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const EnvSchema = BaseEnvSchema.extend({
  /** Ed25519 private key (PKCS#8 PEM) that signs checkpoints; generated under DATA_DIR when unset. */
  AUDIT_SIGNING_KEY_FILE: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  AUDIT_CHECKPOINT_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(60_000),
});

export interface AuditConfig extends BaseConfig {
  audit: {
    /** The signing key, and whether it may be generated there when missing. */
    signingKey: { file: string; generate: boolean };
    /** A checkpoint after this many records since the last one… */
    checkpointEvery: number;
    /** …or this long after a record was appended without one. */
    checkpointMs: number;
  };
}

export function loadConfig(env: NodeJS.ProcessEnv): AuditConfig {
  const parsed = parseEnv('audit', EnvSchema, env);
  const base = toBaseConfig('audit', parsed);
  const configured = parsed.AUDIT_SIGNING_KEY_FILE;
  return {
    ...base,
    audit: {
      signingKey: configured
        ? { file: resolve(configured), generate: false }
        : { file: join(base.dataDir, 'audit', 'checkpoint-signing-key.pem'), generate: true },
      checkpointEvery: parsed.AUDIT_CHECKPOINT_EVERY,
      checkpointMs: parsed.AUDIT_CHECKPOINT_MS,
    },
  };
}

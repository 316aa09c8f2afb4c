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
import {
  DEFAULT_MANAGER_VERSION,
  MANAGER_MODES,
  parseVersion,
  type ManagerIdentity,
} from '@sup/contracts';
import { z } from 'zod';

const EnvSchema = BaseEnvSchema.extend({
  // Trust anchors, CRLs, the signer policy and the crypto policy: shared with ingest, whose
  // index signatures go through the same rules.
  ...TrustEnvShape,
  SIGNATURE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  // This manager's own version, against which a package's minManagerVersion is checked.
  MANAGER_VERSION: z
    .string()
    .default(DEFAULT_MANAGER_VERSION)
    .superRefine((v, ctx) => {
      const parsed = parseVersion('manager', v);
      if (!parsed.ok) ctx.addIssue({ code: z.ZodIssueCode.custom, message: parsed.reason });
    }),
  MANAGER_MODE: z.enum(MANAGER_MODES).default('self-hosted'),
});

export interface SignatureValidatorConfig extends BaseConfig, TrustConfig {
  signatureMaxBytes: number;
  manager: ManagerIdentity;
}

export function loadConfig(env: NodeJS.ProcessEnv): SignatureValidatorConfig {
  const parsed = parseEnv('signature-validator', EnvSchema, env);
  try {
    return {
      ...toBaseConfig('signature-validator', parsed),
      ...loadTrustConfig(parsed),
      signatureMaxBytes: parsed.SIGNATURE_MAX_BYTES,
      manager: { version: parsed.MANAGER_VERSION, mode: parsed.MANAGER_MODE },
    };
  } catch (error) {
    throw new ConfigError('signature-validator', [
      error instanceof Error ? error.message : String(error),
    ]);
  }
}

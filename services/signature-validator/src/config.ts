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
});

export interface SignatureValidatorConfig extends BaseConfig, TrustConfig {
  signatureMaxBytes: number;
}

export function loadConfig(env: NodeJS.ProcessEnv): SignatureValidatorConfig {
  const parsed = parseEnv('signature-validator', EnvSchema, env);
  try {
    return {
      ...toBaseConfig('signature-validator', parsed),
      ...loadTrustConfig(parsed),
      signatureMaxBytes: parsed.SIGNATURE_MAX_BYTES,
    };
  } catch (error) {
    throw new ConfigError('signature-validator', [
      error instanceof Error ? error.message : String(error),
    ]);
  }
}

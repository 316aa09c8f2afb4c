import type { CryptoPolicy } from '@sup/integrity';
import { DEFAULT_CRYPTO_POLICY } from '@sup/integrity';
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
  ...TrustEnvShape,
  CRYPTO_ALLOWED_DIGESTS: z
    .string()
    .regex(
      /^(sha256|sha384|sha512)(,(sha256|sha384|sha512))*$/,
      'must list digests from sha256,sha384,sha512',
    )
    .optional(),
  CRYPTO_MIN_RSA_BITS: z.coerce.number().int().min(1024).max(16384).optional(),
  SIGNATURE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export interface SignatureValidatorConfig extends BaseConfig, TrustConfig {
  policy: CryptoPolicy;
  signatureMaxBytes: number;
}

export function loadConfig(env: NodeJS.ProcessEnv): SignatureValidatorConfig {
  const parsed = parseEnv('signature-validator', EnvSchema, env);
  try {
    return {
      ...toBaseConfig('signature-validator', parsed),
      ...loadTrustConfig(parsed.TRUST_ANCHORS, parsed.TRUST_INTERMEDIATES),
      policy: {
        ...DEFAULT_CRYPTO_POLICY,
        ...(parsed.CRYPTO_ALLOWED_DIGESTS
          ? {
              allowedDigests: parsed.CRYPTO_ALLOWED_DIGESTS.split(
                ',',
              ) as CryptoPolicy['allowedDigests'],
            }
          : {}),
        ...(parsed.CRYPTO_MIN_RSA_BITS ? { minRsaBits: parsed.CRYPTO_MIN_RSA_BITS } : {}),
      },
      signatureMaxBytes: parsed.SIGNATURE_MAX_BYTES,
    };
  } catch (error) {
    throw new ConfigError('signature-validator', [
      error instanceof Error ? error.message : String(error),
    ]);
  }
}

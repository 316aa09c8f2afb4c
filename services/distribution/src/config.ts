import { join, resolve } from 'node:path';
import { BaseEnvSchema, parseEnv, toBaseConfig, type BaseConfig } from '@sup/service-kit';
import { z } from 'zod';

const EnvSchema = BaseEnvSchema.extend({
  /** Published security updates per component an operator may roll back to (and re-apply). */
  SECURITY_KEEP_PER_COMPONENT: z.coerce.number().int().min(1).max(100).default(3),
  /** Ed25519 private key (PKCS#8 PEM) signing provenance records; generated under DATA_DIR when unset. */
  PROVENANCE_KEY_FILE: z.string().min(1).optional(),
  /** How far the fleet listing's seenAt may lag a computer's latest report when nothing else changed. */
  FLEET_SEEN_RESOLUTION_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
});

export interface DistributionConfig extends BaseConfig {
  /** Unchanged reports seen less than this after the last write are not written (0: always). */
  fleet: { seenResolutionMs: number };
  relays: {
    securityKeepPerComponent: number;
    /** The provenance signing key, and whether it may be generated there when missing. */
    provenanceKey: { file: string; generate: boolean };
  };
}

export function loadConfig(env: NodeJS.ProcessEnv): DistributionConfig {
  const parsed = parseEnv('distribution', EnvSchema, env);
  const base = toBaseConfig('distribution', parsed);
  const configured = parsed.PROVENANCE_KEY_FILE;
  return {
    ...base,
    fleet: { seenResolutionMs: parsed.FLEET_SEEN_RESOLUTION_MS },
    relays: {
      securityKeepPerComponent: parsed.SECURITY_KEEP_PER_COMPONENT,
      provenanceKey: configured
        ? { file: resolve(configured), generate: false }
        : {
            file: join(base.dataDir, 'distribution', 'provenance-signing-key.pem'),
            generate: true,
          },
    },
  };
}

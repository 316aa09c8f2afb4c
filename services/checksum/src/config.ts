import { BaseEnvSchema, parseEnv, toBaseConfig, type BaseConfig } from '@sup/service-kit';

export type ChecksumConfig = BaseConfig;

export function loadConfig(env: NodeJS.ProcessEnv): ChecksumConfig {
  return toBaseConfig('checksum', parseEnv('checksum', BaseEnvSchema, env));
}

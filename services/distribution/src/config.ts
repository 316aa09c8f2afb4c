import { BaseEnvSchema, parseEnv, toBaseConfig, type BaseConfig } from '@sup/service-kit';

export type DistributionConfig = BaseConfig;

export function loadConfig(env: NodeJS.ProcessEnv): DistributionConfig {
  return toBaseConfig('distribution', parseEnv('distribution', BaseEnvSchema, env));
}

import { BaseEnvSchema, parseEnv, toBaseConfig, type BaseConfig } from '@sup/service-kit';

export type AlertingConfig = BaseConfig;

export function loadConfig(env: NodeJS.ProcessEnv): AlertingConfig {
  return toBaseConfig('alerting', parseEnv('alerting', BaseEnvSchema, env));
}

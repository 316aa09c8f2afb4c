import type { Provider } from '@nestjs/common';
import { parseEnv } from '@sup/service-kit';
import { z } from 'zod';

export interface RolloutsConfig {
  /** How often each replica evaluates the active rollouts (compare-and-set makes one win). */
  tickMs: number;
  /** The control plane's base URL agents fall back to when no relay answers. */
  controlPlaneUrl: string;
  /** A relay not seen for this long goes to the end of an agent's relay list. */
  relayStaleMs: number;
}

const EnvSchema = z.object({
  ROLLOUT_TICK_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  CONTROL_PLANE_PUBLIC_URL: z
    .string()
    .url()
    .refine((u) => ['http:', 'https:'].includes(new URL(u).protocol), 'must be http(s)')
    .default('http://127.0.0.1:8080/v1'),
  RELAY_STALE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(15 * 60_000),
});

export function loadRolloutsConfig(env: NodeJS.ProcessEnv): RolloutsConfig {
  const parsed = parseEnv('distribution', EnvSchema, env);
  return {
    tickMs: parsed.ROLLOUT_TICK_MS,
    controlPlaneUrl: parsed.CONTROL_PLANE_PUBLIC_URL.replace(/\/+$/, ''),
    relayStaleMs: parsed.RELAY_STALE_MS,
  };
}

export const ROLLOUTS_CONFIG = Symbol('ROLLOUTS_CONFIG');
/** Read and validated when the module starts: a bad value stops the service with its name. */
export const rolloutsConfigProvider: Provider = {
  provide: ROLLOUTS_CONFIG,
  useFactory: () => loadRolloutsConfig(process.env),
};

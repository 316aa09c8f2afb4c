import { DEFAULT_RULE_SETTINGS, type RuleSettings } from '@sup/domain';
import { z } from 'zod';

/** The evaluation's timing and the rules' thresholds (RULES_* in the environment). */
export interface RulesConfig {
  /** A full evaluation at least this often. */
  evalIntervalMs: number;
  /** And this long after the first relevant event of a burst (reports, publications, ...). */
  debounceMs: number;
  settings: RuleSettings;
}

const ms = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const DAY = 86_400_000;
const d = DEFAULT_RULE_SETTINGS;

export const RulesEnvSchema = z.object({
  RULES_EVAL_INTERVAL_MS: ms(100, DAY, 60_000),
  RULES_EVAL_DEBOUNCE_MS: ms(0, 600_000, 1_000),
  RULES_PENDING_RULE_MS: ms(0, 30 * DAY, d.pendingRuleMs),
  RULES_PENDING_PATTERN_MS: ms(0, 30 * DAY, d.pendingPatternMs),
  RULES_RELAY_SYNC_MS: ms(0, 30 * DAY, d.relaySyncMs),
  RULES_RELAY_UNAVAILABLE_MS: ms(100, 30 * DAY, d.relayUnavailableMs),
  RULES_STALE_MS: ms(0, 365 * DAY, d.staleMs),
  RULES_STALE_GRACE_MS: ms(0, 30 * DAY, d.staleGraceMs),
  RULES_LIST_LIMIT: z.coerce.number().int().min(1).max(1_000).default(d.listLimit),
});

export function toRulesConfig(env: z.infer<typeof RulesEnvSchema>): RulesConfig {
  return {
    evalIntervalMs: env.RULES_EVAL_INTERVAL_MS,
    debounceMs: env.RULES_EVAL_DEBOUNCE_MS,
    settings: {
      pendingRuleMs: env.RULES_PENDING_RULE_MS,
      pendingPatternMs: env.RULES_PENDING_PATTERN_MS,
      relaySyncMs: env.RULES_RELAY_SYNC_MS,
      relayUnavailableMs: env.RULES_RELAY_UNAVAILABLE_MS,
      staleMs: env.RULES_STALE_MS,
      staleGraceMs: env.RULES_STALE_GRACE_MS,
      listLimit: env.RULES_LIST_LIMIT,
    },
  };
}

import type { RuleEvaluation } from '../alert-rules';
import {
  relayContentDrift,
  relayOlderThanAgent,
  relaysNotInSync,
  relayUnavailable,
} from './relay-rules';
import { securityUpdatesStale, updatePending } from './security-rules';
import type { RuleSettings, RulesSnapshot } from './snapshot';
import { softwareUpdateAvailable } from './software-update-available';

export type StateRule = (
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
) => RuleEvaluation;

/** Every rule evaluated over the whole snapshot; each resolves the subjects it stops naming. */
export const STATE_RULES: readonly StateRule[] = [
  softwareUpdateAvailable,
  relayOlderThanAgent,
  updatePending,
  relaysNotInSync,
  securityUpdatesStale,
  relayUnavailable,
  relayContentDrift,
];

export const evaluateRules = (
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation[] => STATE_RULES.map((rule) => rule(snapshot, now, settings));

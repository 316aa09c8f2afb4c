/**
 * Where one update stands at one relay. States only move forward: `pending` (the relay's group
 * should have it), `failed` (the relay kept nothing, attempt n), `relayed` (verified and cached).
 * A failure after `relayed` (a later attempt reported late, or a replayed event) never undoes it,
 * and of two failures the later attempt wins: the stored document is replaced only by a higher rank.
 */
export type RelayUpdateState = 'pending' | 'failed' | 'relayed';

/** Attempts above this rank as this many: ranks of failures stay below `relayed`. */
const MAX_RANKED_ATTEMPT = 999_999;

export function relayStateRank(state: RelayUpdateState, attempt = 1): number {
  switch (state) {
    case 'pending':
      return 0;
    case 'failed':
      return 1 + Math.min(Math.max(attempt, 1), MAX_RANKED_ATTEMPT) / (MAX_RANKED_ATTEMPT + 1);
    case 'relayed':
      return 2;
  }
}

/** The `_id` of one (update, relay) state document. */
export const relayStateId = (updateId: string, relayId: string): string => `${updateId}:${relayId}`;

/**
 * What a relay still lacks of what its group should hold: every required update it neither
 * holds (by digest, as it last reported) nor was recorded as having relayed since.
 */
export function pendingUpdates(
  required: readonly { updateId: string; sha256: string }[],
  holds: ReadonlySet<string>,
  relayed: ReadonlySet<string>,
): string[] {
  return required
    .filter((r) => !holds.has(r.sha256) && !relayed.has(r.updateId))
    .map((r) => r.updateId);
}

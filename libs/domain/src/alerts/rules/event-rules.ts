import type { UpdateRelayFailed, UpdateWithdrawn } from '@sup/contracts';
import type { AlertObservation, AlertSeverity } from '../alert-lifecycle';

export const RELAY_VERIFICATION_FAILED = 'relay-verification-failed';
export const UPDATE_WITHDRAWN = 'update-withdrawn';

/** The subject of a relay's failures with one update: one alert per update and relay. */
export const relayFailureSubject = (updateId: string, relayId: string): string =>
  `${updateId}:${relayId}`;

/** Bytes that do not verify at a relay may have been tampered with; the rest are operational. */
const FAILURE_SEVERITY: Record<UpdateRelayFailed['code'], AlertSeverity> = {
  'digest-mismatch': 'critical',
  'size-mismatch': 'critical',
  'signature-invalid': 'critical',
  'download-failed': 'warning',
  'cache-full': 'warning',
};

/**
 * `relay-verification-failed`: each `updates.v1.relay-failed` event is a sighting (its event id
 * counts it once) of the alert for that update and relay. It resolves when the relay relays the
 * update after all (`updates.v1.relayed` for the pair).
 */
export function relayFailedAlert(
  e: UpdateRelayFailed,
  observationId: string,
  at: string,
): AlertObservation {
  return {
    rule: RELAY_VERIFICATION_FAILED,
    subject: relayFailureSubject(e.updateId, e.relayId),
    severity: FAILURE_SEVERITY[e.code],
    summary: `Relay ${e.relayId} could not keep update ${e.updateId} (attempt ${e.attempt}): ${e.code}: ${e.reason}`,
    updateId: e.updateId,
    details: {
      relayId: e.relayId,
      relayGroup: e.relayGroup,
      code: e.code,
      reason: e.reason,
      attempt: e.attempt,
      failedAt: e.failedAt,
    },
    observationId,
    at,
  };
}

/**
 * `update-withdrawn` (critical): the control plane found a published update's stored bytes
 * altered and stopped offering it. A past fact: an operator acknowledges it.
 */
export function withdrawnAlert(
  e: UpdateWithdrawn,
  observationId: string,
  at: string,
): AlertObservation {
  return {
    rule: UPDATE_WITHDRAWN,
    subject: e.updateId,
    severity: 'critical',
    summary: `Update ${e.updateId} was withdrawn (${e.code}): ${e.reason}`,
    updateId: e.updateId,
    details: {
      code: e.code,
      reason: e.reason,
      expectedSha256: e.expectedSha256,
      ...(e.computedSha256 ? { computedSha256: e.computedSha256 } : {}),
      withdrawnAt: e.withdrawnAt,
    },
    observationId,
    at,
  };
}

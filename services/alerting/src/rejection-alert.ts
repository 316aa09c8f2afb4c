import type { EventData, SUBJECTS } from '@sup/contracts';
import type { AlertObservation } from '@sup/domain';

type Rejection = EventData<typeof SUBJECTS.rejected>;

export const REJECTION_RULE = 'update-rejected';

/**
 * Rule `update-rejected`: each rejection is a sighting for its update (one alert per update). A
 * forged or corrupted update is a possible attack, so checksum, signature and policy failures are
 * critical; a malformed feed entry is the vendor's mistake and only a warning. A rejection is a past
 * fact, so this rule never resolves an alert by itself: an operator acknowledges it.
 */
export function rejectionAlert(r: Rejection, observationId: string, at: string): AlertObservation {
  const label = r.update
    ? `${r.update.component}${r.update.platform ? ` (${r.update.platform})` : ''} ${r.update.version}`
    : `${r.entry?.component ?? 'unknown component'} ${r.entry?.version ?? ''}`.trim();
  return {
    rule: REJECTION_RULE,
    subject: r.updateId,
    severity: r.stage === 'feed' ? 'warning' : 'critical',
    summary: `Update ${label} was rejected at the ${r.stage} stage: ${r.reason}`,
    updateId: r.updateId,
    details: {
      stage: r.stage,
      code: r.code,
      reason: r.reason,
      ...(r.file ? { file: r.file } : {}),
      ...(r.source ? { source: r.source } : {}),
    },
    observationId,
    at,
  };
}

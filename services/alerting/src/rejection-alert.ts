import type { EventData, SUBJECTS } from '@sup/contracts';

type Rejection = EventData<typeof SUBJECTS.rejected>;

export const REJECTION_RULE = 'update-rejected';

/**
 * A forged or corrupted update is a possible attack, so checksum, signature and policy failures are
 * critical; a malformed feed entry is the vendor's mistake and only a warning.
 */
export function rejectionAlert(
  r: Rejection,
): Omit<EventData<typeof SUBJECTS.alertRaised>, 'raisedAt'> {
  const label = r.update
    ? `${r.update.component}${r.update.platform ? ` (${r.update.platform})` : ''} ${r.update.version}`
    : `${r.entry?.component ?? 'unknown component'} ${r.entry?.version ?? ''}`.trim();
  return {
    alertId: `alert_${REJECTION_RULE}_${r.updateId}`,
    rule: REJECTION_RULE,
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
  };
}

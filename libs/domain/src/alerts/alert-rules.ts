import type { AlertLifecycleState, AlertObservation } from './alert-lifecycle';

/**
 * What one evaluation of a rule says: the subjects its condition holds for now. A rule is a pure
 * function of what it watches (an event, or catalog + fleet) to this; the alerting service turns it
 * into transitions. Event rules (`update-rejected`) only ever raise: their condition is a past fact
 * that never ends by itself. State rules (`relay-unavailable`, `update-pending`, …) are evaluated
 * over the whole picture, so every subject they no longer name has ended and is resolved.
 */
export interface RuleEvaluation {
  rule: string;
  holding: AlertObservation[];
  /** Why an alert this evaluation no longer names resolves, e.g. "the relay reports again". */
  clearedReason: string;
}

/** An alert as reconciliation needs to see it (from the listing projection). */
export interface AlertStateRef {
  id: string;
  rule: string;
  subject: string;
  state: AlertLifecycleState;
}

export interface Resolution {
  alertId: string;
  reason: string;
}

/**
 * The alerts of the evaluated rule that are still open or acknowledged but whose subject the
 * evaluation no longer names: each resolves (and reopens later if the condition returns).
 */
export function resolutionsFor(
  evaluation: RuleEvaluation,
  alerts: readonly AlertStateRef[],
): Resolution[] {
  const holding = new Set(evaluation.holding.map((o) => o.subject));
  return alerts
    .filter((a) => a.rule === evaluation.rule && a.state !== 'resolved' && !holding.has(a.subject))
    .map((a) => ({ alertId: a.id, reason: evaluation.clearedReason }));
}

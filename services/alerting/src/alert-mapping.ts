import type { Alert, AlertDetail } from '@sup/contracts';
import type { AlertView } from '@sup/domain';
import type { AlertDoc } from './alert.schema';

/** The API's view of an alert (its listing copy holds exactly this, under `_id`). */
export function alertOf(v: AlertView): Alert {
  return {
    id: v.id,
    rule: v.rule,
    subject: v.subject,
    severity: v.severity,
    state: v.state,
    summary: v.summary,
    ...(v.updateId ? { updateId: v.updateId } : {}),
    details: v.details,
    raisedAt: v.firstSeen,
    firstSeen: v.firstSeen,
    lastSeen: v.lastSeen,
    occurrences: v.occurrences,
    ...(v.acknowledgedBy ? { acknowledgedBy: v.acknowledgedBy } : {}),
    ...(v.acknowledgedAt ? { acknowledgedAt: v.acknowledgedAt } : {}),
    ...(v.resolvedAt ? { resolvedAt: v.resolvedAt } : {}),
    ...(v.resolveReason ? { resolveReason: v.resolveReason } : {}),
  };
}

/** With its history; the observation that caused a transition is internal. */
export const alertDetailOf = (v: AlertView): AlertDetail => ({
  ...alertOf(v),
  history: v.history.map((h) => ({
    seq: h.seq,
    event: h.event,
    at: h.at,
    ...(h.by ? { by: h.by } : {}),
    ...(h.reason ? { reason: h.reason } : {}),
  })),
});

export function docOf(v: AlertView, revision: number): AlertDoc {
  const { id, ...fields } = alertOf(v);
  return { _id: id, ...fields, revision };
}

export function alertOfDoc(d: AlertDoc): Alert {
  const { _id: id, ...fields } = d;
  const alert: Alert & { revision?: number } = { id, ...fields };
  delete alert.revision;
  return alert;
}

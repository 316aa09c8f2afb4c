import { createHash } from 'node:crypto';

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertLifecycleState = 'open' | 'acknowledged' | 'resolved';
export type AlertTransition = 'raised' | 'occurred' | 'acknowledged' | 'resolved' | 'reopened';

export interface AlertHistoryEntry {
  /** Monotonic per alert: the transition's number, also the token of the event it announced. */
  seq: number;
  event: AlertTransition;
  at: string;
  /** Who acknowledged (token name or OIDC subject). */
  by?: string;
  /** Why it resolved. */
  reason?: string;
  /**
   * The observation that made it (raised, occurred, reopened): a redelivered observation finds its
   * transition here, so its event can be announced again if the first announcement was lost.
   */
  cause?: string;
}

/** One alert: the state every replica shares (a KV value changed by compare-and-set). */
export interface AlertView {
  id: string;
  rule: string;
  /** What the rule fired about (an update id, a relay id, a platform line). */
  subject: string;
  severity: AlertSeverity;
  summary: string;
  updateId?: string;
  details: Record<string, unknown>;
  state: AlertLifecycleState;
  firstSeen: string;
  lastSeen: string;
  occurrences: number;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  resolvedAt?: string;
  resolveReason?: string;
  /** Number of the last transition (never trimmed, unlike history). */
  seq: number;
  history: AlertHistoryEntry[];
  /** The observation ids already counted (newest last, bounded): a redelivery counts once. */
  seen: string[];
  /**
   * The transitions up to this `seq` are known to be announced (their events on ALERTS, or in the
   * outbox). Absent: none is known to be.
   */
  announcedSeq?: number;
}

/** What a rule reports each time its condition holds for a subject. */
export interface AlertObservation {
  rule: string;
  subject: string;
  severity: AlertSeverity;
  summary: string;
  updateId?: string;
  details: Record<string, unknown>;
  /** Identifies this sighting (e.g. the event id): the same id never counts twice. */
  observationId: string;
  at: string;
}

/** History entries kept per alert: the KV value stays small however often a rule fires. */
export const ALERT_HISTORY_LIMIT = 100;
/** Observation ids remembered for dedupe: far more than any redelivery window spans. */
export const ALERT_SEEN_LIMIT = 64;

const SAFE_SUBJECT = /^[A-Za-z0-9_-]{1,120}$/;

/**
 * The alert id of a rule and subject: deterministic, so every replica and every re-evaluation
 * lands on one alert, and usable as a NATS subject token. A subject that is not a short token
 * (a platform name with dots, a long key) is hashed.
 */
export function alertIdOf(rule: string, subject: string): string {
  const token = SAFE_SUBJECT.test(subject)
    ? subject
    : `h${createHash('sha256').update(subject).digest('hex').slice(0, 32)}`;
  return `alert_${rule}_${token}`;
}

/** The entity token of the event announcing one transition of an alert. */
export const alertEventToken = (alertId: string, seq: number): string => `${alertId}-${seq}`;

/**
 * The kept history entries after `announcedSeq`: transitions made (the KV changed) whose events
 * may not have been sent, because the process died in between. Announcing them again is safe:
 * each event is stored once under its transition's token.
 */
export const unannouncedTransitions = (view: AlertView): AlertHistoryEntry[] =>
  view.history.filter((h) => h.seq > (view.announcedSeq ?? 0));

/** The view with its transitions through `seq` marked announced; undefined when it already was. */
export const markAnnouncedThrough = (view: AlertView, seq: number): AlertView | undefined =>
  (view.announcedSeq ?? 0) >= seq ? undefined : { ...view, announcedSeq: seq };

export interface AlertChange {
  view: AlertView;
  /** The transition made, or undefined when nothing changed (a duplicate, an idempotent repeat). */
  transition?: AlertHistoryEntry;
}

const bounded = <T>(items: T[], limit: number): T[] =>
  items.length > limit ? items.slice(items.length - limit) : items;

function withTransition(
  view: AlertView,
  entry: Omit<AlertHistoryEntry, 'seq'>,
  patch: Partial<AlertView>,
): AlertChange {
  const transition: AlertHistoryEntry = { seq: view.seq + 1, ...entry };
  return {
    view: {
      ...view,
      ...patch,
      seq: transition.seq,
      history: bounded([...view.history, transition], ALERT_HISTORY_LIMIT),
    },
    transition,
  };
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * A rule saw its condition for a subject: raises the alert, counts another occurrence, or reopens
 * a resolved one. An acknowledged alert stays acknowledged (the operator knows) but still counts.
 */
export function observeAlert(current: AlertView | undefined, o: AlertObservation): AlertChange {
  if (!current) {
    const transition: AlertHistoryEntry = {
      seq: 1,
      event: 'raised',
      at: o.at,
      cause: o.observationId,
    };
    return {
      view: {
        id: alertIdOf(o.rule, o.subject),
        rule: o.rule,
        subject: o.subject,
        severity: o.severity,
        summary: o.summary,
        ...(o.updateId ? { updateId: o.updateId } : {}),
        details: o.details,
        state: 'open',
        firstSeen: o.at,
        lastSeen: o.at,
        occurrences: 1,
        seq: 1,
        history: [transition],
        seen: [o.observationId],
      },
      transition,
    };
  }
  if (current.seen.includes(o.observationId)) return { view: current };
  const common: Partial<AlertView> = {
    // The worst severity seen stands: a later milder sighting does not downplay the alert.
    severity:
      SEVERITY_RANK[o.severity] > SEVERITY_RANK[current.severity] ? o.severity : current.severity,
    summary: o.summary,
    details: o.details,
    firstSeen: o.at < current.firstSeen ? o.at : current.firstSeen,
    lastSeen: o.at > current.lastSeen ? o.at : current.lastSeen,
    occurrences: current.occurrences + 1,
    seen: bounded([...current.seen, o.observationId], ALERT_SEEN_LIMIT),
  };
  if (current.state === 'resolved') {
    // A reopened alert is a new episode: the last one's ack and resolution no longer apply.
    const reopened: AlertView = { ...current, state: 'open' };
    delete reopened.acknowledgedBy;
    delete reopened.acknowledgedAt;
    delete reopened.resolvedAt;
    delete reopened.resolveReason;
    return withTransition(
      reopened,
      { event: 'reopened', at: o.at, cause: o.observationId },
      common,
    );
  }
  return withTransition(current, { event: 'occurred', at: o.at, cause: o.observationId }, common);
}

export class AlertTransitionError extends Error {
  constructor(
    readonly alertId: string,
    message: string,
  ) {
    super(message);
    this.name = 'AlertTransitionError';
  }
}

/** An operator acknowledges: idempotent on an acknowledged alert, refused on a resolved one. */
export function acknowledgeAlert(current: AlertView, by: string, at: string): AlertChange {
  if (current.state === 'acknowledged') return { view: current };
  if (current.state === 'resolved') {
    throw new AlertTransitionError(current.id, `alert ${current.id} is resolved: nothing to ack`);
  }
  return withTransition(
    current,
    { event: 'acknowledged', at, by },
    { state: 'acknowledged', acknowledgedBy: by, acknowledgedAt: at },
  );
}

/** The rule's condition ended: resolves an open or acknowledged alert; a repeat changes nothing. */
export function resolveAlert(current: AlertView, reason: string, at: string): AlertChange {
  if (current.state === 'resolved') return { view: current };
  return withTransition(
    current,
    { event: 'resolved', at, reason },
    { state: 'resolved', resolvedAt: at, resolveReason: reason },
  );
}

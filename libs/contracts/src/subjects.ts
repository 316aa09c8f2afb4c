/**
 * Every event type the pipeline uses. Nothing else in the code base spells a subject out.
 * `v1` is the payload contract version: a breaking change gets a new subject, never a new shape
 * on an old one.
 *
 * On the wire each event is published on `<type>.<entity id>` (e.g.
 * `updates.v1.published.upd_0123…`), so every entity has a subject of its own per type. That is
 * what makes publication a compare-and-set: a decision is published with
 * `Nats-Expected-Last-Subject-Sequence: 0`, and JetStream refuses a second one for the same entity
 * at any time, not only inside the duplicate window. Subscribers filter on `<type>.*`.
 */
export const SUBJECTS = {
  imported: 'updates.v1.imported',
  checksumVerified: 'updates.v1.checksum-verified',
  validated: 'updates.v1.validated',
  published: 'updates.v1.published',
  rejected: 'updates.v1.rejected',
  relayed: 'updates.v1.relayed',
  relayFailed: 'updates.v1.relay-failed',
  withdrawn: 'updates.v1.withdrawn',
  alertRaised: 'alerts.v1.raised',
  alertResolved: 'alerts.v1.resolved',
  alertAcknowledged: 'alerts.v1.acknowledged',
  syncRequested: 'feeds.v1.sync-requested',
  entryRequested: 'feeds.v1.entry-requested',
  syncFinished: 'syncs.v1.finished',
  auditAction: 'audit.v1.action',
  fleetReported: 'fleet.v1.reported',
  rolloutChanged: 'rollouts.v1.changed',
} as const;
export type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];
export const ALL_SUBJECTS: readonly Subject[] = Object.values(SUBJECTS);

/** The update lifecycle: every verdict on an update (what the view and the audit log follow). */
export const UPDATE_SUBJECTS = [
  SUBJECTS.imported,
  SUBJECTS.checksumVerified,
  SUBJECTS.validated,
  SUBJECTS.published,
  SUBJECTS.rejected,
] as const;
export type UpdateSubject = (typeof UPDATE_SUBJECTS)[number];

/** What happens to a published update at the edge: relays' results and withdrawals. */
export const RELAY_SUBJECTS = [SUBJECTS.relayed, SUBJECTS.relayFailed, SUBJECTS.withdrawn] as const;
export type RelaySubject = (typeof RELAY_SUBJECTS)[number];

/** The alert lifecycle: what webhooks deliver. */
export const ALERT_SUBJECTS = [
  SUBJECTS.alertRaised,
  SUBJECTS.alertResolved,
  SUBJECTS.alertAcknowledged,
] as const;
export type AlertSubject = (typeof ALERT_SUBJECTS)[number];

/** A token of a NATS subject: the entity ids the pipeline makes (`upd_…`, `sync_…`, `alert_…`). */
const ENTITY_TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

export function isEntityToken(value: string): boolean {
  return ENTITY_TOKEN.test(value);
}

/** The wire subject of one entity's event: `<type>.<entity id>`. */
export function entitySubject(type: Subject, entityId: string): string {
  if (!isEntityToken(entityId)) {
    throw new Error(`entity id ${JSON.stringify(entityId)} cannot be a subject token`);
  }
  return `${type}.${entityId}`;
}

/** What a consumer of every entity's `type` events filters on. */
export const typeFilter = (type: Subject): string => `${type}.*`;

/** The type and entity of a wire subject, or undefined when it is not `<type>.<entity id>`. */
export function parseEntitySubject(wire: string): { type: Subject; entityId: string } | undefined {
  const cut = wire.lastIndexOf('.');
  const type = wire.slice(0, cut);
  const entityId = wire.slice(cut + 1);
  if (cut < 0 || !(ALL_SUBJECTS as readonly string[]).includes(type) || !isEntityToken(entityId))
    return undefined;
  return { type: type as Subject, entityId };
}

/** Dead letters land on `dlq.v1.<service>.<original subject>` after the last delivery attempt. */
export const DLQ_PREFIX = 'dlq.v1';
export const dlqSubject = (service: string, original: string): string =>
  `${DLQ_PREFIX}.${service}.${original}`;

export interface StreamSpec {
  name: string;
  subjects: string[];
  description: string;
  /**
   * `limits` (default) keeps messages for every subscriber until the stream's age/size limits;
   * `workqueue` removes a message once a consumer acks it (work for exactly one worker).
   */
  retention?: 'limits' | 'workqueue';
  /**
   * Messages kept per subject (JetStream `max_msgs_per_subject`): 1 for a stream of "the latest
   * state of each entity", where a new message replaces the entity's previous one.
   */
  maxMsgsPerSubject?: number;
}

/** Streams are created (or updated) idempotently by every service at start-up. */
export const STREAMS: readonly StreamSpec[] = [
  { name: 'UPDATES', subjects: ['updates.v1.>'], description: 'Update lifecycle events' },
  { name: 'ALERTS', subjects: ['alerts.v1.>'], description: 'Alert lifecycle events' },
  {
    name: 'FEEDS',
    subjects: ['feeds.v1.>'],
    description: 'Feed sync work for ingest: sync requests and one message per index entry',
    retention: 'workqueue',
  },
  {
    // Not in FEEDS: that is ingest's work queue, and these are facts others read (alerting).
    name: 'SYNCS',
    subjects: ['syncs.v1.>'],
    description: 'How each feed sync ended (completed, refused, failed), once per sync',
  },
  {
    name: 'DLQ',
    subjects: [`${DLQ_PREFIX}.>`],
    description: 'Messages that exhausted their deliveries',
  },
  {
    name: 'AUDIT',
    subjects: ['audit.v1.action.>'],
    description: 'Operator actions, for the audit service to append to the audit chain',
  },
  {
    // Not CloudEvents: the chain's own records, each appended with a compare-and-set on the
    // stream's last sequence (see libs/contracts/src/audit.ts).
    name: 'AUDIT_CHAIN',
    subjects: ['audit.v1.chain.record', 'audit.v1.chain.checkpoint'],
    description: 'The hash-chained audit log and its signed checkpoints',
  },
  {
    // One message per computer: its latest report replaces the previous one, so the stream stays
    // the size of the fleet and a late consumer reads each computer once.
    name: 'FLEET',
    subjects: ['fleet.v1.>'],
    description: 'What each agent and relay last reported about itself (one message per computer)',
    maxMsgsPerSubject: 1,
  },
  {
    name: 'ROLLOUTS',
    subjects: ['rollouts.v1.>'],
    description: 'Every change of every rollout (created, waves, pause, halt, completion)',
  },
];

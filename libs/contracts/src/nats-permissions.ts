import { subjectMatches } from './docs/asyncapi';
import type { ServiceName } from './services';
import {
  DLQ_PREFIX,
  STREAMS,
  SUBJECTS,
  typeFilter,
  UPDATE_SUBJECTS,
  ALERT_SUBJECTS,
  RELAY_SUBJECTS,
  type Subject,
} from './subjects';

/**
 * What each service may do on NATS, derived from what it emits and consumes. `npm start` and the
 * test harness turn this into nats-server users (one per service, plus `admin` for operators and
 * tests), so a service holding another's subject in its hand is refused by the server: a forged
 * `updates.v1.validated.<id>` can only come from signature-validator's user.
 *
 * Adding a handler or an event type to a service means adding it here; a service missing a grant
 * fails at start-up (consumer creation) or on its first publish with a NATS permissions error
 * naming the subject.
 */

/** The audit service's subjects, as its contract (`audit.ts`) names them. */
const AUDIT_SUBJECTS = {
  action: 'audit.v1.action',
  chainRecord: 'audit.v1.chain.record',
  chainCheckpoint: 'audit.v1.chain.checkpoint',
  chainStream: 'AUDIT_CHAIN',
} as const;

/** A durable consumer a service pulls: `consumer` is the `@OnEvent(s)` consumer name (default `main`). */
export interface ConsumerGrant {
  subject: Subject | (typeof AUDIT_SUBJECTS)['action'];
  consumer?: string;
}

export interface ServiceGrants {
  /** Subject filters the service publishes events on (each event type is `<type>.*`). */
  emits: readonly string[];
  /** Its durable consumers. */
  consumes: readonly ConsumerGrant[];
  /** KV buckets it owns (read, write, create). */
  buckets: readonly string[];
  /** Streams it reads directly (message gets and ephemeral ordered consumers), besides its durables. */
  reads?: readonly string[];
  /**
   * Subjects each replica follows on its own (ordered push consumers, no acks): it may create a
   * consumer with exactly that filter and answer its flow control, nothing else on the stream.
   */
  follows?: readonly FollowGrant[];
}

/** A subject filter of a stream that a service follows (`followSubject` of libs/jetstream). */
export interface FollowGrant {
  stream: string;
  subject: string;
}

/** Services with a NATS user: the pipeline's, and audit (added beside them). */
export type NatsServiceName = ServiceName | 'audit';
/** The operators' and tests' user: everything, including deleting streams and dead letters. */
export const NATS_ADMIN_USER = 'admin';
export type NatsUserName = NatsServiceName | typeof NATS_ADMIN_USER;

/** Every service that takes operator actions records them for the audit log. */
const AUDITED_ACTIONS = `${AUDIT_SUBJECTS.action}.*`;

export const NATS_SERVICE_GRANTS: Readonly<Record<NatsServiceName, ServiceGrants>> = {
  ingest: {
    emits: [
      typeFilter(SUBJECTS.syncRequested),
      typeFilter(SUBJECTS.entryRequested),
      typeFilter(SUBJECTS.imported),
      typeFilter(SUBJECTS.rejected), // stage `feed`
      typeFilter(SUBJECTS.syncFinished),
      AUDITED_ACTIONS,
    ],
    consumes: [
      { subject: SUBJECTS.syncRequested },
      { subject: SUBJECTS.entryRequested },
      { subject: SUBJECTS.rejected, consumer: 'janitor' },
    ],
    buckets: ['ingest_syncs', 'ingest_feed_states', 'ingest_artifact_refs'],
  },
  checksum: {
    emits: [typeFilter(SUBJECTS.checksumVerified), typeFilter(SUBJECTS.rejected)],
    consumes: [{ subject: SUBJECTS.imported }],
    buckets: [],
  },
  'signature-validator': {
    emits: [typeFilter(SUBJECTS.validated), typeFilter(SUBJECTS.rejected)],
    consumes: [{ subject: SUBJECTS.checksumVerified }],
    buckets: [],
  },
  distribution: {
    // Fleet reports posted over REST are published here; the `fleet` durable writes the read model.
    // Relays' results arrive over REST with the relay's own token and are published here, so the
    // relay id on `updates.v1.relayed` is always the one the credential names.
    emits: [
      typeFilter(SUBJECTS.published),
      typeFilter(SUBJECTS.fleetReported),
      typeFilter(SUBJECTS.relayed),
      typeFilter(SUBJECTS.relayFailed),
      typeFilter(SUBJECTS.withdrawn),
      typeFilter(SUBJECTS.rolloutChanged),
      AUDITED_ACTIONS, // relay groups, rollouts, version control, rollbacks
    ],
    consumes: [
      { subject: SUBJECTS.validated },
      ...UPDATE_SUBJECTS.map((subject) => ({ subject, consumer: 'view' })),
      { subject: SUBJECTS.fleetReported, consumer: 'fleet' },
      ...RELAY_SUBJECTS.map((subject) => ({ subject, consumer: 'relays' })),
      // Relays' own reports: groups created on first sight, holdings and in-sync state.
      { subject: SUBJECTS.fleetReported, consumer: 'relays' },
      { subject: SUBJECTS.published, consumer: 'relays' },
      { subject: SUBJECTS.fleetReported, consumer: 'rollouts' },
      { subject: SUBJECTS.relayed, consumer: 'rollouts' },
    ],
    // fleet_latest: each computer's winning fleet report, by compare-and-set (the fleet module).
    buckets: ['update_views', 'relay_states', 'rollouts', 'version_control', 'fleet_latest'],
  },
  alerting: {
    emits: [
      typeFilter(SUBJECTS.alertRaised),
      typeFilter(SUBJECTS.alertResolved),
      typeFilter(SUBJECTS.alertAcknowledged),
      AUDITED_ACTIONS, // acknowledgements
    ],
    consumes: [
      { subject: SUBJECTS.rejected },
      // The fleet and catalog rules (software-update-available, relay-older-than-agent, ...).
      { subject: SUBJECTS.published, consumer: 'rules' },
      { subject: SUBJECTS.fleetReported, consumer: 'rules' },
      { subject: SUBJECTS.relayed, consumer: 'rules' },
      { subject: SUBJECTS.relayFailed, consumer: 'rules' },
      { subject: SUBJECTS.withdrawn, consumer: 'rules' },
      // Webhook delivery: its own durables on ALERTS, so a slow sink never holds up evaluation.
      ...ALERT_SUBJECTS.map((subject) => ({ subject, consumer: 'webhook' })),
    ],
    buckets: ['alerts', 'alert_rules_state'],
    // Each replica's own ordered consumers on publications, withdrawals and relay results (its
    // in-memory picture for the state rules: services/alerting RulesFeed).
    follows: [
      ...[SUBJECTS.published, SUBJECTS.withdrawn, SUBJECTS.relayed].map((s) => ({
        stream: 'UPDATES',
        subject: `${s}.>`,
      })),
      // How scheduled feed syncs end (security-updates-stale).
      { stream: 'SYNCS', subject: `${SUBJECTS.syncFinished}.>` },
    ],
  },
  audit: {
    // Only audit appends to the chain: a record and, periodically, a signed checkpoint.
    emits: [AUDIT_SUBJECTS.chainRecord, AUDIT_SUBJECTS.chainCheckpoint],
    consumes: [
      ...UPDATE_SUBJECTS.map((subject) => ({ subject })),
      { subject: AUDIT_SUBJECTS.action },
    ],
    buckets: [],
    reads: [AUDIT_SUBJECTS.chainStream],
  },
};

export const NATS_SERVICES = Object.keys(NATS_SERVICE_GRANTS) as NatsServiceName[];

/** `checksum` + `main` + `updates.v1.imported` -> `checksum-main-updates_v1_imported`. */
export function durableName(service: string, consumer: string, subject: string): string {
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');
  const subjectPart = subject.replace(/\*/g, 'any').replace(/>/g, 'all').replace(/\./g, '_');
  return `${clean(service)}-${clean(consumer)}-${clean(subjectPart)}`;
}

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** Each service's replies come to inboxes of its own, so no service can read another's. */
export const serviceInboxPrefix = (service: string): string => `_INBOX.${service}`;

const API = '$JS.API';

/**
 * Create a missing stream (idempotent: JetStream refuses a different configuration under an
 * existing name) and look at it. Never update, delete or purge: a shorter max age or a one-message
 * limit would erase history as surely as a purge; only `admin` changes a stream.
 */
const manageStream = (stream: string): string[] => [
  `${API}.STREAM.INFO.${stream}`,
  `${API}.STREAM.CREATE.${stream}`,
];

/** Message gets and short-lived ordered consumers (KV reads and key listings, paging a log). */
const readStream = (stream: string): string[] => [
  `${API}.STREAM.INFO.${stream}`,
  `${API}.STREAM.MSG.GET.${stream}`,
  `${API}.DIRECT.GET.${stream}`,
  `${API}.DIRECT.GET.${stream}.>`,
  `${API}.CONSUMER.CREATE.${stream}`,
  `${API}.CONSUMER.CREATE.${stream}.>`,
  `${API}.CONSUMER.INFO.${stream}.*`,
  `${API}.CONSUMER.DELETE.${stream}.*`,
  `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
  `$JS.FC.${stream}.>`,
  `$JS.ACK.${stream}.>`,
];

/**
 * A durable is named after its service, so the grant names it exactly; its stream is left open
 * (`*`) because the name alone already singles it out. Acks, naks and "working" go to `$JS.ACK`.
 */
const useDurable = (durable: string): string[] => [
  `${API}.CONSUMER.CREATE.*.${durable}`,
  `${API}.CONSUMER.CREATE.*.${durable}.>`,
  `${API}.CONSUMER.DURABLE.CREATE.*.${durable}`,
  `${API}.CONSUMER.INFO.*.${durable}`,
  `${API}.CONSUMER.MSG.NEXT.*.${durable}`,
  `$JS.ACK.*.${durable}.>`,
];

/** The publish and subscribe allow-lists of one user, in a stable order without duplicates. */
export function natsPermissions(user: NatsUserName): NatsPermissions {
  if (user === NATS_ADMIN_USER) return { publish: ['>'], subscribe: ['>'] };
  const grants = NATS_SERVICE_GRANTS[user];
  const publish = [
    `${API}.INFO`,
    // Every service creates missing contract streams at start-up (libs/jetstream/src/streams.ts).
    ...STREAMS.flatMap((s) => manageStream(s.name)),
    ...grants.buckets.flatMap((b) => [
      ...manageStream(`KV_${b}`),
      ...readStream(`KV_${b}`),
      `$KV.${b}.>`,
    ]),
    ...(grants.reads ?? []).flatMap(readStream),
    ...(grants.follows ?? []).flatMap(({ stream, subject }) => [
      `${API}.CONSUMER.CREATE.${stream}.*.${subject}`,
      `$JS.FC.${stream}.>`,
    ]),
    ...grants.consumes.flatMap((c) =>
      useDurable(durableName(user, c.consumer ?? 'main', c.subject)),
    ),
    ...grants.emits,
    `${DLQ_PREFIX}.${user}.>`,
  ];
  return {
    publish: [...new Set(publish)],
    subscribe: [`${serviceInboxPrefix(user)}.>`],
  };
}

/** Whether a concrete subject falls under an allow-list. */
export const isAllowed = (allow: readonly string[], subject: string): boolean =>
  allow.some((filter) => subjectMatches(filter, subject));

/**
 * A relay's own NATS user (`relay-<relayId>`): it pulls its durable `relay-<relayId>` of
 * published updates (so an offline relay catches up) and publishes its own fleet report. Nothing
 * else: its results go to the control plane over REST with its token. Generated per relay, so one
 * relay's credentials cannot pull another's durable.
 */
export const relayNatsUser = (relayId: string): string => `relay-${relayId}`;
export const relayDurable = (relayId: string): string => `relay-${relayId}`;

export function relayNatsPermissions(relayId: string): NatsPermissions {
  const durable = relayDurable(relayId);
  return {
    publish: [
      `${API}.INFO`,
      `${API}.STREAM.INFO.UPDATES`,
      `${API}.CONSUMER.CREATE.UPDATES.${durable}`,
      `${API}.CONSUMER.CREATE.UPDATES.${durable}.>`,
      `${API}.CONSUMER.DURABLE.CREATE.UPDATES.${durable}`,
      `${API}.CONSUMER.INFO.UPDATES.${durable}`,
      `${API}.CONSUMER.MSG.NEXT.UPDATES.${durable}`,
      `$JS.ACK.UPDATES.${durable}.>`,
      `${SUBJECTS.fleetReported}.${relayId}`,
    ],
    subscribe: [`${serviceInboxPrefix(relayNatsUser(relayId))}.>`],
  };
}

/** Agents' shared NATS user: it may publish fleet reports and nothing else. */
export const AGENT_NATS_USER = 'agent';
export function agentNatsPermissions(): NatsPermissions {
  return {
    publish: [typeFilter(SUBJECTS.fleetReported)],
    subscribe: [`${serviceInboxPrefix(AGENT_NATS_USER)}.>`],
  };
}

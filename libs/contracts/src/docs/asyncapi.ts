import { z, type ZodTypeAny } from 'zod';
import { eventType } from '../cloud-event';
import { DeadLetterSchema, DLQ_SUBJECT_PATTERN } from '../dead-letter';
import {
  AlertSeveritySchema,
  EVENT_SCHEMAS,
  SignerSchema,
  UpdateDescriptorSchema,
  UpdateSourceSchema,
} from '../events';
import { SERVICE_NAMES, serviceSource, type ServiceName } from '../services';
import { ALL_SUBJECTS, DLQ_PREFIX, STREAMS, SUBJECTS, type Subject } from '../subjects';
import { RejectionStageSchema, UpdateKindSchema, type RejectionStage } from '../update';
import { componentSchemas, schemaRef, type JsonObject } from './json-schema';

export const ASYNCAPI_VERSION = '2.6.0';
/** Version of the v1 event contracts the document describes. */
export const EVENTS_DOC_VERSION = '1.0.0';
export const NATS_SERVER_URL = 'nats://localhost:4222';

export interface EventEmitter {
  service: ServiceName;
  /** When the service emits the event. */
  when: string;
  /** For `updates.v1.rejected`: the rejection stages this service decides. */
  stages?: readonly RejectionStage[];
}

export interface EventDoc {
  /** Component name of the `data` schema; the envelope is `<name>Event`. */
  name: string;
  summary: string;
  emitters: readonly EventEmitter[];
}

/** Who emits what. Typed against `Subject`, so a new subject without documentation does not compile. */
export const EVENT_DOCS = {
  [SUBJECTS.imported]: {
    name: 'UpdateImported',
    summary:
      'An update was imported: its artifact and detached signature are in the artifact store.',
    emitters: [
      {
        service: 'ingest',
        when: 'after storing an update listed by a feed sync, or received by a manual import',
      },
    ],
  },
  [SUBJECTS.checksumVerified]: {
    name: 'UpdateChecksumVerified',
    summary: 'The stored artifact has the size and SHA-256 the vendor published.',
    emitters: [
      { service: 'checksum', when: 'after measuring the stored artifact of an imported update' },
    ],
  },
  [SUBJECTS.validated]: {
    name: 'UpdateValidated',
    summary:
      'The detached CMS signature verifies over the artifact, the signer chains to a trusted root, and policy accepts the update.',
    emitters: [
      {
        service: 'signature-validator',
        when: 'after verifying the signature and policy of a checksum-verified update',
      },
    ],
  },
  [SUBJECTS.published]: {
    name: 'UpdatePublished',
    summary: 'The update is available to relays and agents.',
    emitters: [{ service: 'distribution', when: 'after making a validated update available' }],
  },
  [SUBJECTS.rejected]: {
    name: 'UpdateRejected',
    summary: 'An update was refused; `stage` tells which check refused it and `code` why.',
    emitters: [
      {
        service: 'ingest',
        when: 'when a feed entry breaks its contract or its files cannot be fetched or stored',
        stages: ['feed'],
      },
      {
        service: 'checksum',
        when: 'when the stored artifact does not have the published size or SHA-256',
        stages: ['checksum'],
      },
      {
        service: 'signature-validator',
        when: 'when the signature does not verify, or policy refuses the signer or the update',
        stages: ['signature', 'policy'],
      },
    ],
  },
  [SUBJECTS.alertRaised]: {
    name: 'AlertRaised',
    summary: 'An alert rule fired.',
    emitters: [{ service: 'alerting', when: 'when a rule fires on the events it watches' }],
  },
  [SUBJECTS.alertResolved]: {
    name: 'AlertResolved',
    summary: 'A raised alert no longer holds.',
    emitters: [{ service: 'alerting', when: 'when the condition of a raised alert clears' }],
  },
  [SUBJECTS.alertAcknowledged]: {
    name: 'AlertAcknowledged',
    summary: 'An operator acknowledged an alert.',
    emitters: [{ service: 'alerting', when: 'when `POST /v1/alerts/{id}/ack` acknowledges it' }],
  },
  [SUBJECTS.syncRequested]: {
    name: 'SyncRequested',
    summary: 'A feed sync was requested; ingest runs it and reports on `GET /v1/feeds/syncs/{id}`.',
    emitters: [{ service: 'ingest', when: 'when `POST /v1/feeds/sync` accepts a request' }],
  },
  [SUBJECTS.entryRequested]: {
    name: 'EntryRequested',
    summary:
      'One entry of a verified feed index, queued as work so replicas of ingest fetch entries in parallel.',
    emitters: [{ service: 'ingest', when: 'when a sync has verified its index (one per entry)' }],
  },
  [SUBJECTS.syncFinished]: {
    name: 'SyncFinished',
    summary:
      'How a feed sync ended (completed, refused or failed), with its entry counts; once per sync. Alerting raises `security-updates-stale` while the latest scheduled sync of a feed keeps failing.',
    emitters: [
      {
        service: 'ingest',
        when: 'when its sweeper (every FEED_SYNC_SWEEP_MS) finds a sync in a final state not yet announced',
      },
    ],
  },
  [SUBJECTS.auditAction]: {
    name: 'AuditAction',
    summary:
      'An operator action (who, what, on which target, accepted or refused); the audit service appends it to the hash-chained audit log (stream `AUDIT_CHAIN`).',
    emitters: [
      {
        service: 'ingest',
        when: 'when a feed sync or a manual import is requested (the entity id is the action id)',
      },
    ],
  },
  [SUBJECTS.fleetReported]: {
    name: 'FleetReported',
    summary:
      'What an agent or relay runs (build, platform, relay group, security updates), as it last saw itself; the entity id is the computer id and the stream keeps one report per computer. Agents and relays publish it themselves, or post it to `POST /v1/fleet/reports`.',
    emitters: [
      {
        service: 'distribution',
        when: 'when `POST /v1/fleet/reports` accepts a batch (one per report)',
      },
    ],
  },
  [SUBJECTS.relayed]: {
    name: 'UpdateRelayed',
    summary:
      'A relay downloaded a published update, verified its SHA-256 and CMS signature against its own trust anchors and keeps it in its cache; once per update and relay (entity id `<updateId>-<relayId>`).',
    emitters: [
      {
        service: 'distribution',
        when: 'when a relay posts its result to `POST /v1/relays/{relayId}/results` with its own token',
      },
    ],
  },
  [SUBJECTS.relayFailed]: {
    name: 'UpdateRelayFailed',
    summary:
      'A relay kept nothing of a published update (bytes or signature did not verify, or the download failed); entity id `<updateId>-<relayId>-<attempt>`.',
    emitters: [
      {
        service: 'distribution',
        when: 'when a relay posts a failure to `POST /v1/relays/{relayId}/results`',
      },
    ],
  },
  [SUBJECTS.withdrawn]: {
    name: 'UpdateWithdrawn',
    summary:
      'A published update is no longer offered: its stored bytes no longer hash to the published SHA-256 when re-read for a relay.',
    emitters: [
      {
        service: 'distribution',
        when: 'when a download re-hashes the stored artifact and the digest differs',
      },
    ],
  },
  [SUBJECTS.rolloutChanged]: {
    name: 'RolloutChanged',
    summary:
      'A rollout changed (created, waiting for relays, a wave started or succeeded, paused, resumed, halted, cancelled, completed); entity id `<rolloutId>-<revision>`.',
    emitters: [
      { service: 'distribution', when: 'on every rollout change, by the API or by its evaluation' },
    ],
  },
} as const satisfies Record<Subject, EventDoc>;

/** NATS wildcard match: `*` is one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** The stream that stores a subject (or an event type's `<type>.<entity id>` subjects), from `STREAMS`. */
export function streamFor(subject: string): string {
  const captures = (pattern: string): boolean =>
    subjectMatches(pattern, subject) || subjectMatches(pattern, `${subject}.{entityId}`);
  const matches = STREAMS.filter((st) => st.subjects.some(captures));
  if (matches.length !== 1) {
    throw new Error(`${subject} is stored by ${matches.length} streams, expected exactly one`);
  }
  return matches[0].name;
}

const DEDUPE_HEADER = 'Nats-Msg-Id';

function envelopeFor(subject: Subject): ZodTypeAny {
  return z.object({
    specversion: z.literal('1.0'),
    id: z
      .string()
      .min(1)
      .max(256)
      .describe(
        `Deterministic (the same fact always gets the same id) and sent as the \`${DEDUPE_HEADER}\` header.`,
      ),
    source: z.string().min(1).describe('The emitting service: `/services/<service>`.'),
    type: z.literal(eventType(subject)),
    subject: z
      .string()
      .optional()
      .describe('The entity the event is about (update, alert or sync id): the correlation id.'),
    time: z.string().datetime({ offset: true }),
    datacontenttype: z.literal('application/json'),
    data: EVENT_SCHEMAS[subject],
  });
}

const table = (rows: string[][]): string =>
  rows
    .map((r, i) => `| ${r.join(' | ')} |${i === 0 ? `\n|${r.map(() => ' --- |').join('')}` : ''}`)
    .join('\n');

function description(): string {
  const streams = table([
    ['Stream', 'Subjects', 'Holds'],
    ...STREAMS.map((s) => [s.name, s.subjects.map((x) => `\`${x}\``).join(', '), s.description]),
  ]);
  const events = table([
    ['Subject', 'Emitted by', 'Stream'],
    ...ALL_SUBJECTS.map((subject) => {
      const doc: EventDoc = EVENT_DOCS[subject];
      const by = doc.emitters
        .map((e) => (e.stages ? `${e.service} (stage ${e.stages.join(', ')})` : e.service))
        .join(', ');
      return [`\`${subject}.{entityId}\``, by, streamFor(subject)];
    }),
  ]);
  return [
    'Events of the signed-update pipeline on NATS JetStream. Every channel is described from the',
    "point of view of a subscriber: the pipeline publishes, so every operation is AsyncAPI 2's",
    '`subscribe`.',
    '',
    '## Envelope',
    '',
    'Every event except a dead letter is a CloudEvents 1.0 envelope in JSON structured mode with',
    '`datacontenttype` `application/json`, `type` `io.signed-update-pipeline.<subject>` and `source`',
    '`/services/<emitting service>`. `v1` in a subject is the payload contract version: a breaking',
    'change gets a new subject, never a new shape on an old one. Consumers ignore fields they do not',
    'know.',
    '',
    '## Delivery guarantees',
    '',
    '- **At least once.** Events are stored in JetStream streams and read through durable consumers',
    '  with explicit acknowledgement. A message that is not acknowledged in time (a crash, a restart,',
    '  a slow handler) is delivered again, so every consumer sees duplicates.',
    '- **One subject per entity.** Each event is published on `<type>.<entity id>` (the update, alert,',
    '  sync or sync entry it is about, also the CloudEvents `subject`); subscribe with `<type>.*`.',
    '- **Stored once.** Decisions are published with `Nats-Expected-Last-Subject-Sequence: 0`, so the',
    '  stream refuses a second event of the same type for the same entity at any time (while the first',
    '  is retained). A subscriber reading a stream sees each decision once.',
    `- **Deterministic ids.** The CloudEvents \`id\` is derived from the fact the event reports (e.g.`,
    `  \`<update id>:<subject>\`), never random, and is sent as the \`${DEDUPE_HEADER}\` header, so a`,
    '  re-published work message is also dropped within the stream duplicate window.',
    '- **Idempotent consumers.** Redeliveries still reach consumers: handle the same event twice',
    '  harmlessly, keyed on the CloudEvents `id` or on the entity in `subject`.',
    '- **Order.** A stream keeps publish order, but redeliveries arrive after later messages and there',
    '  is no order across streams: consumers must not depend on ordering.',
    `- **Dead letters.** A message that exhausts its deliveries, or that can never be processed (it`,
    `  breaks its contract), is published to \`${DLQ_SUBJECT_PATTERN}\` (stream DLQ) with the`,
    '  failure and the original body, once per stream message and consumer.',
    '',
    '## Streams',
    '',
    streams,
    '',
    '## Events',
    '',
    events,
  ].join('\n');
}

const natsHeaders: JsonObject = {
  type: 'object',
  properties: {
    [DEDUPE_HEADER]: {
      type: 'string',
      description:
        'Equal to the CloudEvents `id`; JetStream deduplicates on it within the stream duplicate window.',
    },
  },
  required: [DEDUPE_HEADER],
};

/** AsyncAPI 2.6 description of every subject, generated from `SUBJECTS`, `EVENT_SCHEMAS` and `STREAMS`. */
export function buildAsyncApi(): JsonObject {
  const named: Record<string, ZodTypeAny> = {
    UpdateDescriptor: UpdateDescriptorSchema,
    UpdateSource: UpdateSourceSchema,
    UpdateKind: UpdateKindSchema,
    Signer: SignerSchema,
    RejectionStage: RejectionStageSchema,
    AlertSeverity: AlertSeveritySchema,
  };
  for (const subject of ALL_SUBJECTS) {
    const { name } = EVENT_DOCS[subject];
    named[name] = EVENT_SCHEMAS[subject];
    named[`${name}Event`] = envelopeFor(subject);
  }
  named.DeadLetter = DeadLetterSchema;
  const { schemas } = componentSchemas(named, 'jsonSchema7');

  const channels: JsonObject = {};
  const messages: JsonObject = {};
  for (const subject of ALL_SUBJECTS) {
    const doc: EventDoc = EVENT_DOCS[subject];
    const stream = streamFor(subject);
    const emittedBy = doc.emitters
      .map((e) => `**${e.service}** ${e.when}${e.stages ? ` (stage ${e.stages.join(', ')})` : ''}.`)
      .join(' ');
    channels[`${subject}.{entityId}`] = {
      parameters: {
        entityId: {
          description:
            'The update, alert, sync or sync-entry id the event is about (the CloudEvents `subject`).',
          schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
        },
      },
      description: `${doc.summary}\n\nEmitted by: ${emittedBy}\n\nStream: ${stream}.`,
      subscribe: {
        operationId: `on${doc.name}`,
        summary: doc.summary,
        tags: doc.emitters.map((e) => ({ name: e.service })),
        message: { $ref: `#/components/messages/${subject}` },
      },
      'x-stream': stream,
      'x-emitted-by': doc.emitters.map((e) => ({
        service: e.service,
        source: serviceSource(e.service),
        when: e.when,
        ...(e.stages ? { stages: [...e.stages] } : {}),
      })),
    };
    messages[subject] = {
      messageId: subject,
      name: doc.name,
      title: subject,
      summary: doc.summary,
      contentType: 'application/json',
      headers: natsHeaders,
      correlationId: {
        description: 'The entity the event is about (update, alert or sync id).',
        location: '$message.payload#/subject',
      },
      payload: schemaRef(`${doc.name}Event`),
      'x-cloudevents-type': eventType(subject),
    };
  }

  channels[DLQ_SUBJECT_PATTERN] = {
    description: [
      'Messages a consumer gave up on: after its last delivery attempt, or at once when the message',
      'can never be processed (it breaks its contract). `{subject}` is the original subject and spans several tokens, so subscribe',
      `with \`${DLQ_PREFIX}.>\` or \`${DLQ_PREFIX}.<service>.>\`. The payload is not a CloudEvent: it wraps`,
      'the original message.',
      '',
      'Stream: DLQ.',
    ].join('\n'),
    parameters: {
      service: {
        description: 'The service whose consumer gave up.',
        schema: { type: 'string', enum: [...SERVICE_NAMES] },
      },
      subject: {
        description: 'The subject the message was published on.',
        schema: { type: 'string', enum: [...ALL_SUBJECTS] },
      },
    },
    subscribe: {
      operationId: 'onDeadLetter',
      summary: 'A message exhausted its deliveries or broke its contract.',
      tags: SERVICE_NAMES.map((name) => ({ name })),
      message: { $ref: '#/components/messages/DeadLetter' },
    },
    'x-stream': streamFor(`${DLQ_PREFIX}.checksum.${SUBJECTS.imported}`),
    'x-emitted-by': SERVICE_NAMES.map((service) => ({
      service,
      source: serviceSource(service),
      when: 'when one of its consumers gives up on a message',
    })),
  };
  messages.DeadLetter = {
    messageId: 'dead-letter',
    name: 'DeadLetter',
    title: DLQ_SUBJECT_PATTERN,
    summary: 'A message a consumer gave up on, with why and how often it failed.',
    contentType: 'application/json',
    headers: {
      type: 'object',
      properties: {
        [DEDUPE_HEADER]: {
          type: 'string',
          description:
            '`dlq:<service>:<consumer>:<stream sequence>`: one dead letter per message and consumer.',
        },
      },
      required: [DEDUPE_HEADER],
    },
    payload: schemaRef('DeadLetter'),
  };

  return {
    asyncapi: ASYNCAPI_VERSION,
    id: 'urn:io.signed-update-pipeline:events',
    info: {
      title: 'Signed-update pipeline events',
      version: EVENTS_DOC_VERSION,
      description: description(),
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    servers: {
      local: {
        url: NATS_SERVER_URL,
        protocol: 'nats',
        description: 'NATS with JetStream, as the development stack runs it.',
      },
    },
    defaultContentType: 'application/json',
    tags: SERVICE_NAMES.map((name) => ({ name, description: `Emitted by ${serviceSource(name)}` })),
    channels,
    components: { messages, schemas },
    'x-streams': STREAMS.map((s) => ({
      name: s.name,
      subjects: [...s.subjects],
      description: s.description,
      ...(s.retention ? { retention: s.retention } : {}),
      ...(s.maxMsgsPerSubject ? { maxMsgsPerSubject: s.maxMsgsPerSubject } : {}),
    })),
  };
}

import type { ZodTypeAny } from 'zod';
import { AuditPageSchema, ListAuditQuerySchema } from '../audit';
import { AlertSeveritySchema, SignerSchema } from '../events';
import {
  AlertDetailSchema,
  AlertIdSchema,
  AlertListSchema,
  AlertSchema,
  ErrorBodySchema,
  ImportAcceptedSchema,
  ListAlertsQuerySchema,
  ListUpdatesQuerySchema,
  SyncRequestSchema,
  SyncStatusSchema,
  UpdateDetailSchema,
  UpdateHistoryEntrySchema,
  UpdateItemSchema,
  UpdateListSchema,
} from '../rest';
import { API_ROUTES } from '../api-routes';
import {
  ComputerSchema,
  FleetListSchema,
  FleetReportSchema,
  FleetReportsAcceptedSchema,
  FleetReportsBodySchema,
  FleetSummarySchema,
  ListFleetQuerySchema,
} from '../fleet';
import { HealthSchema, SyncAcceptedSchema } from '../rest-responses';
import { SERVICE_NAMES, type ServiceName } from '../services';
import {
  FeedEntrySchema,
  RejectionStageSchema,
  UpdateIdSchema,
  UpdateKindSchema,
  UpdateStateSchema,
} from '../update';
import { componentSchemas, schemaRef, type JsonObject } from './json-schema';
import { ROLLOUT_API_SCHEMAS, rolloutApiPaths } from './rollouts-openapi';
import { RELAY_API_SCHEMAS, relayApiPaths } from './relay-api-openapi';
import {
  BEARER_SCHEME,
  BEARER_SECURITY_SCHEME,
  SECURITY_RESPONSES,
  withSecurity,
} from './openapi-security';

export const OPENAPI_VERSION = '3.1.0';
export const REST_API_VERSION = '1.0.0';
export const REST_BASE_PATH = '/v1';
export const REST_SERVER_URL = 'http://127.0.0.1:8080';
export const OPENAPI_DOCUMENT_PATH = `${REST_BASE_PATH}/openapi.json`;
export const HEALTH_PATHS = { live: '/healthz/live', ready: '/healthz/ready' } as const;

/** The parts every `POST /v1/imports` multipart bundle starts with; the others are named by the index. */
export const IMPORT_INDEX_PARTS = {
  index: 'index.json',
  signature: 'index.json.p7s',
} as const;

const TAGS: { name: string; service: ServiceName | null; description: string }[] = [
  { name: 'feeds', service: 'ingest', description: 'Vendor feed synchronisation.' },
  { name: 'imports', service: 'ingest', description: 'Manual import of a signed bundle.' },
  { name: 'updates', service: 'distribution', description: 'Updates and their lifecycle.' },
  { name: 'openapi', service: 'distribution', description: 'This document.' },
  {
    name: 'fleet',
    service: 'distribution',
    description: 'Agents and relays: what each runs, as it last reported.',
  },
  {
    name: 'relays',
    service: 'distribution',
    description: 'Relay groups, relays, downloads, catalogs with provenance, security rollback.',
  },
  {
    name: 'rollouts',
    service: 'distribution',
    description: 'Agent version control, rollouts in waves (relays first), agent assignments.',
  },
  { name: 'alerts', service: 'alerting', description: 'Alerts raised by the pipeline.' },
  {
    name: 'audit',
    service: 'audit',
    description: 'The hash-chained, checkpoint-signed audit log of verdicts and operator actions.',
  },
  {
    name: 'health',
    service: null,
    description: 'Probes every service answers on its own port; the ingress does not route them.',
  },
];

const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } });
const response = (description: string, schema?: JsonObject): JsonObject =>
  schema ? { description, content: json(schema) } : { description };
const responseRef = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });

function queryParameters(schema: JsonObject, descriptions: Record<string, string>): JsonObject[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: 'query',
    required: required.has(name),
    ...(descriptions[name] ? { description: descriptions[name] } : {}),
    schema: s,
  }));
}

const idParameter = (description: string, schema: JsonObject): JsonObject => ({
  name: 'id',
  in: 'path',
  required: true,
  description,
  schema,
});

const PAGING = {
  limit: 'Page size.',
  offset: 'Items to skip.',
};

/** OpenAPI 3.1 description of the operators' REST API, generated from the zod DTOs. */
export function buildOpenApi(): JsonObject {
  const named: Record<string, ZodTypeAny> = {
    SyncRequest: SyncRequestSchema,
    SyncAccepted: SyncAcceptedSchema,
    SyncStatus: SyncStatusSchema,
    FeedEntry: FeedEntrySchema,
    ImportAccepted: ImportAcceptedSchema,
    UpdateKind: UpdateKindSchema,
    UpdateState: UpdateStateSchema,
    RejectionStage: RejectionStageSchema,
    Signer: SignerSchema,
    UpdateItem: UpdateItemSchema,
    UpdateHistoryEntry: UpdateHistoryEntrySchema,
    UpdateDetail: UpdateDetailSchema,
    UpdateList: UpdateListSchema,
    AlertSeverity: AlertSeveritySchema,
    Alert: AlertSchema,
    AlertDetail: AlertDetailSchema,
    AlertList: AlertListSchema,
    AuditPage: AuditPageSchema,
    FleetReport: FleetReportSchema,
    FleetReports: FleetReportsBodySchema,
    FleetReportsAccepted: FleetReportsAcceptedSchema,
    Computer: ComputerSchema,
    FleetList: FleetListSchema,
    FleetSummary: FleetSummarySchema,
    ErrorBody: ErrorBodySchema,
    Health: HealthSchema,
    ...ROLLOUT_API_SCHEMAS,
    ...RELAY_API_SCHEMAS,
  };
  // Converted with the components so that they refer to them, but not components themselves.
  const internal: Record<string, ZodTypeAny> = {
    ListUpdatesQuery: ListUpdatesQuerySchema,
    ListAlertsQuery: ListAlertsQuerySchema,
    ListAuditQuery: ListAuditQuerySchema,
    UpdateId: UpdateIdSchema,
    SyncId: SyncAcceptedSchema.shape.id,
    ListFleetQuery: ListFleetQuerySchema,
    AlertId: AlertIdSchema,
  };
  const { schemas, extra } = componentSchemas(named, 'openApi3', internal);
  const { ListUpdatesQuery, ListAlertsQuery, ListAuditQuery, UpdateId, SyncId, AlertId } = extra;

  const { ListFleetQuery } = extra;
  const routed = (service: ServiceName): JsonObject => ({ 'x-service': service });
  const badRequest = { 400: responseRef('BadRequest') };
  const notFound = { 404: responseRef('NotFound') };

  const paths: JsonObject = {
    ...rolloutApiPaths(REST_BASE_PATH),
    ...relayApiPaths(REST_BASE_PATH),
    [`${REST_BASE_PATH}/feeds/sync`]: {
      post: {
        operationId: 'requestFeedSync',
        tags: ['feeds'],
        summary: 'Request a feed sync',
        description: [
          'Queues a sync of a vendor feed and answers at once; poll the returned id. Without a body or',
          'with `{}` the configured feed is synced; `url` names another feed base. The request is',
          'published as `feeds.v1.sync-requested`.',
        ].join(' '),
        requestBody: {
          required: false,
          content: json(schemaRef('SyncRequest')),
        },
        responses: {
          202: response('Sync queued.', schemaRef('SyncAccepted')),
          ...badRequest,
        },
        ...routed('ingest'),
      },
    },
    [`${REST_BASE_PATH}/feeds/syncs/{id}`]: {
      get: {
        operationId: 'getFeedSync',
        tags: ['feeds'],
        summary: 'Progress and outcome of a feed sync',
        parameters: [idParameter('Sync id, as `POST /v1/feeds/sync` returned it.', SyncId)],
        responses: {
          200: response('The sync.', schemaRef('SyncStatus')),
          ...notFound,
        },
        ...routed('ingest'),
      },
    },
    [`${REST_BASE_PATH}/imports`]: {
      post: {
        operationId: 'importBundle',
        tags: ['imports'],
        summary: 'Import updates by hand from a signed bundle',
        description: [
          'Uploads what the vendor signs: `index.json`, `index.json.p7s` and the files the index',
          'names (artifact and detached signature per entry, under the paths the index gives), as',
          'multipart parts (field name = path), a zip or a tar. The index is verified exactly like',
          "a feed's (signature over its bytes first, then schema, expiry and rollback per feed",
          'name) before any other file is read; every file must be named by it and is cut off at',
          'its signed size; an artifact must have the signed SHA-256 and its signature must verify',
          'before anything is recorded, so nothing uploaded can change the fate of an update with',
          'other bytes. In a tar the index and its signature must be the first two files. Entries',
          'the bundle carries no file of are not imported. Accepted entries are announced as',
          '`updates.v1.imported` with `source.type = manual` and go through the same checks as',
          'feed entries. Idempotent: the same bundle answers `200` with the same ids.',
        ].join(' '),
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                description:
                  'One file part per file, its field name the path the index gives it; no text fields.',
                properties: {
                  [IMPORT_INDEX_PARTS.index]: {
                    type: 'string',
                    format: 'binary',
                    description: 'The signed index, first part.',
                  },
                  [IMPORT_INDEX_PARTS.signature]: {
                    type: 'string',
                    format: 'binary',
                    description: 'Detached CMS (DER) over index.json, second part.',
                  },
                },
                additionalProperties: { type: 'string', format: 'binary' },
                required: Object.values(IMPORT_INDEX_PARTS),
              },
            },
            'application/zip': { schema: { type: 'string', format: 'binary' } },
            'application/x-tar': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          200: response(
            'The same bundle was imported before; its existing ids.',
            schemaRef('ImportAccepted'),
          ),
          202: response('Imported; the checks run asynchronously.', schemaRef('ImportAccepted')),
          ...badRequest,
          413: response(
            'A file is larger than its signed size (or a cap), or the bundle is too large.',
            schemaRef('ErrorBody'),
          ),
          415: response('Not a multipart, zip or tar body.', schemaRef('ErrorBody')),
          422: response(
            'The index is refused (signature, expiry, rollback) or a file does not match what it signs.',
            schemaRef('ErrorBody'),
          ),
          503: response(
            'Every upload slot is taken (IMPORT_MAX_CONCURRENT); see Retry-After.',
            schemaRef('ErrorBody'),
          ),
          507: response('Not enough disk space left to receive it.', schemaRef('ErrorBody')),
        },
        ...routed('ingest'),
      },
    },
    [`${REST_BASE_PATH}/updates`]: {
      get: {
        operationId: 'listUpdates',
        tags: ['updates'],
        summary: 'List updates, most recently changed first',
        parameters: queryParameters(ListUpdatesQuery, {
          kind: 'Only updates of this kind.',
          component: 'Only updates of this component.',
          state: 'Only updates in this state.',
          ...PAGING,
        }),
        responses: {
          200: response('A page of updates.', schemaRef('UpdateList')),
          ...badRequest,
        },
        ...routed('distribution'),
      },
    },
    [`${REST_BASE_PATH}/updates/{id}`]: {
      get: {
        operationId: 'getUpdate',
        tags: ['updates'],
        summary: 'One update with its event history',
        parameters: [idParameter('Update id.', UpdateId)],
        responses: {
          200: response('The update.', schemaRef('UpdateDetail')),
          ...notFound,
        },
        ...routed('distribution'),
      },
    },
    [`${REST_BASE_PATH}/alerts`]: {
      get: {
        operationId: 'listAlerts',
        tags: ['alerts'],
        summary: 'List alerts, most recent first',
        parameters: queryParameters(ListAlertsQuery, {
          state: 'Only alerts in this state.',
          severity: 'Only alerts of this severity.',
          rule: 'Only alerts of this rule.',
          ...PAGING,
        }),
        responses: {
          200: response('A page of alerts.', schemaRef('AlertList')),
          ...badRequest,
        },
        ...routed('alerting'),
      },
    },
    [`${REST_BASE_PATH}/alerts/{id}`]: {
      get: {
        operationId: 'getAlert',
        tags: ['alerts'],
        summary: 'One alert with its history',
        parameters: [idParameter('Alert id.', AlertId)],
        responses: {
          200: response('The alert.', schemaRef('AlertDetail')),
          ...notFound,
        },
        ...routed('alerting'),
      },
    },
    [`${REST_BASE_PATH}/alerts/{id}/ack`]: {
      post: {
        operationId: 'ackAlert',
        tags: ['alerts'],
        summary: 'Acknowledge an alert',
        description: [
          'Records who acknowledged it and when (and in the audit log), and emits',
          '`alerts.v1.acknowledged`. Acknowledging an acknowledged alert changes nothing (200);',
          'a resolved alert cannot be acknowledged (409). No request body.',
        ].join(' '),
        parameters: [idParameter('Alert id.', AlertId)],
        responses: {
          200: response('The alert, acknowledged.', schemaRef('AlertDetail')),
          ...notFound,
          409: response('The alert is resolved.', schemaRef('ErrorBody')),
        },
        ...routed('alerting'),
      },
    },
    [`${REST_BASE_PATH}/audit`]: {
      get: {
        operationId: 'listAudit',
        tags: ['audit'],
        summary: 'Page through the audit log, oldest first',
        description: [
          "Records of the hash chain by sequence: each holds the previous one's hash and its own",
          '(SHA-256 of its canonical JSON); checkpoints are signed with Ed25519. A sequence with no',
          'record (deleted) is listed as `missing`. `npm run audit:verify` checks the whole chain.',
        ].join(' '),
        parameters: queryParameters(ListAuditQuery, {
          after: 'Records with a sequence above this one; `next` of the previous page.',
          limit: 'Page size.',
        }),
        responses: {
          200: response('A page of the audit log.', schemaRef('AuditPage')),
          ...badRequest,
        },
        ...routed('audit'),
      },
    },
    [`${REST_BASE_PATH}/fleet/reports`]: {
      post: {
        operationId: 'postFleetReports',
        tags: ['fleet'],
        summary: 'Report agents and relays: what each runs',
        description: [
          'A batch of up to 1,000 reports (body up to 2 MiB), each published as',
          '`fleet.v1.reported.<id>`; answered once JetStream stored them all. Of two reports of one',
          'computer the later `seenAt` wins, in any order of arrival; the same report again is a',
          'duplicate. A 400 names every bad field and nothing of the batch is stored; a 503 means',
          'some reports were not stored: post the batch again. A relay token may post only its own',
          'report (role `relay`, `id` = the token name), an agent token only reports of role',
          '`agent`; otherwise 403 (code `relay-mismatch` or `agent-reports-only`) and nothing is',
          'stored.',
        ].join(' '),
        requestBody: { required: true, content: json(schemaRef('FleetReports')) },
        responses: {
          202: response('Stored; the read model follows.', schemaRef('FleetReportsAccepted')),
          ...badRequest,
          503: response('Some reports could not be stored; post again.', schemaRef('ErrorBody')),
        },
        ...routed('distribution'),
      },
    },
    [`${REST_BASE_PATH}/fleet`]: {
      get: {
        operationId: 'listFleet',
        tags: ['fleet'],
        summary: 'List computers (their latest report), by id',
        parameters: queryParameters(ListFleetQuery, {
          role: 'Only agents or only relays.',
          platform: 'Only computers of this platform.',
          group: 'Only computers of this relay group.',
          version: 'Only computers running this build (as reported).',
          ...PAGING,
        }),
        responses: {
          200: response('A page of computers.', schemaRef('FleetList')),
          ...badRequest,
        },
        ...routed('distribution'),
      },
    },
    [`${REST_BASE_PATH}/fleet/summary`]: {
      get: {
        operationId: 'getFleetSummary',
        tags: ['fleet'],
        summary: 'Computers by platform and line; security updates up to date or not',
        description: [
          'Counts by role, platform and `major.minor` line, and per security component the',
          'computers at the newest version the catalog has published (or newer: up to date) and',
          'below it (out of date), with the count of each reported version.',
        ].join(' '),
        responses: { 200: response('The summary.', schemaRef('FleetSummary')) },
        ...routed('distribution'),
      },
    },
    [OPENAPI_DOCUMENT_PATH]: {
      get: {
        operationId: 'getOpenApi',
        tags: ['openapi'],
        summary: 'This document',
        responses: {
          200: response('The OpenAPI 3.1 document of the REST API.', {
            type: 'object',
            description: 'An OpenAPI 3.1 document.',
          }),
        },
        ...routed('distribution'),
      },
    },
    [HEALTH_PATHS.live]: {
      get: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'Liveness probe',
        description: 'Answers while the process serves requests; checks no dependency.',
        responses: {
          200: {
            description: 'Alive.',
            content: {
              'application/json': { schema: schemaRef('Health'), example: { status: 'ok' } },
            },
          },
        },
        'x-services': [...SERVICE_NAMES],
        'x-ingress': false,
      },
    },
    [HEALTH_PATHS.ready]: {
      get: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness probe',
        description:
          'Checks the service dependencies (`nats`, `mongo`, ...); `503` while one of them is down.',
        responses: {
          200: {
            description: 'Ready.',
            content: {
              'application/json': {
                schema: schemaRef('Health'),
                example: { status: 'ok', checks: { nats: 'up', mongo: 'up' } },
              },
            },
          },
          503: {
            description: 'A dependency is down.',
            content: {
              'application/json': {
                schema: schemaRef('Health'),
                example: { status: 'unavailable', checks: { nats: 'down', mongo: 'up' } },
              },
            },
          },
        },
        'x-services': [...SERVICE_NAMES],
        'x-ingress': false,
      },
    },
  };

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Signed-update pipeline REST API',
      version: REST_API_VERSION,
      description: [
        'REST API for operators. The ingress routes by path prefix to the service owning it (each',
        "operation's `x-service`; the table is `x-ingress-routes`). Every error has the `ErrorBody`",
        'shape. Health probes are served by every service on its own port and are not routed.',
      ].join(' '),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: REST_SERVER_URL, description: 'The ingress of the development stack.' }],
    tags: TAGS.map((t) => ({
      name: t.name,
      description: t.description,
      ...(t.service ? { 'x-service': t.service } : {}),
    })),
    security: [{ [BEARER_SCHEME]: [] }],
    paths: withSecurity(paths),
    components: {
      schemas,
      securitySchemes: { [BEARER_SCHEME]: BEARER_SECURITY_SCHEME },
      responses: {
        ...SECURITY_RESPONSES,
        BadRequest: response('The request breaks its contract.', schemaRef('ErrorBody')),
        NotFound: response('No such resource.', schemaRef('ErrorBody')),
      },
    },
    'x-ingress-routes': API_ROUTES.map((r) => ({ ...r })),
  };
}

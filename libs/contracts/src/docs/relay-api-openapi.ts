import type { ZodTypeAny } from 'zod';
import {
  AssignRelayGroupSchema,
  CreateRelayGroupSchema,
  GroupCatalogSchema,
  ProvenanceKeySchema,
  RelayGroupListSchema,
  RelayGroupSchema,
  RelayListSchema,
  RelayResultsAcceptedSchema,
  RelayResultsBodySchema,
  RelaySummarySchema,
  RelayViewSchema,
  SecurityApplyResultSchema,
  UpdateRelayEntrySchema,
} from '../relay-api';
import { schemaRef, type JsonObject } from './json-schema';

/** The relays' control plane in the OpenAPI document: component schemas and paths (distribution). */
export const RELAY_API_SCHEMAS: Record<string, ZodTypeAny> = {
  UpdateRelayEntry: UpdateRelayEntrySchema,
  RelayResults: RelayResultsBodySchema,
  RelayResultsAccepted: RelayResultsAcceptedSchema,
  CreateRelayGroup: CreateRelayGroupSchema,
  RelayGroup: RelayGroupSchema,
  RelayGroupList: RelayGroupListSchema,
  AssignRelayGroup: AssignRelayGroupSchema,
  RelayView: RelayViewSchema,
  RelayList: RelayListSchema,
  RelaySummary: RelaySummarySchema,
  GroupCatalog: GroupCatalogSchema,
  ProvenanceKey: ProvenanceKeySchema,
  SecurityApplyResult: SecurityApplyResultSchema,
};

const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } });
const response = (description: string, schema?: JsonObject): JsonObject =>
  schema ? { description, content: json(schema) } : { description };
const error = (description: string) => response(description, schemaRef('ErrorBody'));
const pathParam = (name: string, description: string): JsonObject => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});
const routed = { 'x-service': 'distribution' };
const bytes = (what: string): JsonObject => ({
  get: {
    operationId: what === 'artifact' ? 'downloadArtifact' : 'downloadSignature',
    tags: ['relays'],
    summary: `Download a published update's ${what === 'artifact' ? 'file' : 'detached CMS signature'}`,
    description: [
      'Streams from the artifact store. `Range: bytes=a-b` or `bytes=a-` (one range) answers 206',
      'with `Content-Range`; `ETag` is the quoted SHA-256 and `X-Sup-Sha256` the digest of the',
      'whole file. A whole-file read is re-hashed as it streams: on a mismatch the connection is',
      'cut before the last bytes (the client sees a truncated body), the update is withdrawn',
      '(`updates.v1.withdrawn`) and from then on answers 404 with code `withdrawn`.',
    ].join(' '),
    parameters: [
      pathParam('id', 'Update id.'),
      {
        name: 'Range',
        in: 'header',
        required: false,
        schema: { type: 'string', example: 'bytes=1048576-' },
      },
    ],
    responses: {
      200: { description: 'The whole file.', content: { 'application/octet-stream': {} } },
      206: { description: 'The requested range.', content: { 'application/octet-stream': {} } },
      404: error('Not a published update, or withdrawn (code `withdrawn`).'),
      416: error('The range starts past the end of the file.'),
    },
    ...routed,
  },
});

export function relayApiPaths(base: string): JsonObject {
  return {
    [`${base}/updates/{id}/artifact`]: bytes('artifact'),
    [`${base}/updates/{id}/signature`]: bytes('signature'),
    [`${base}/updates/{id}/apply`]: {
      post: {
        operationId: 'applySecurityUpdate',
        tags: ['relays'],
        summary: "Make a security update its component's current one (rollback or re-apply)",
        description: [
          'An older update among the newest `SECURITY_KEEP_PER_COMPONENT` of its component pins the',
          'component there (relays and agents are told to hold it); the newest clears the pin. Stored',
          'by compare-and-set in the `version_control` bucket and recorded in the audit log. No body.',
        ].join(' '),
        parameters: [pathParam('id', 'Update id.')],
        responses: {
          200: response("The component's current update.", schemaRef('SecurityApplyResult')),
          400: error('Not an update id.'),
          409: error(
            'Not a published security update (`not-a-published-security-update`) or older than the kept ones (`not-kept`).',
          ),
        },
        ...routed,
      },
    },
    [`${base}/relay-groups`]: {
      get: {
        operationId: 'listRelayGroups',
        tags: ['relays'],
        summary: 'List relay groups',
        responses: { 200: response('Every relay group.', schemaRef('RelayGroupList')) },
        ...routed,
      },
      post: {
        operationId: 'createRelayGroup',
        tags: ['relays'],
        summary: 'Create a relay group',
        description: 'A group named by a relay’s first report is created then, too.',
        requestBody: { required: true, content: json(schemaRef('CreateRelayGroup')) },
        responses: {
          201: response('Created.', schemaRef('RelayGroup')),
          400: error('Bad name.'),
          409: error('The group exists (code `group-exists`).'),
        },
        ...routed,
      },
    },
    [`${base}/relay-groups/{group}/catalog`]: {
      get: {
        operationId: 'getGroupCatalog',
        tags: ['relays'],
        summary: 'What a relay group serves, with signed provenance',
        description: [
          'Every published, non-withdrawn security update and software build, each with its',
          'provenance record signed (Ed25519) by the control plane; `required` marks what the',
          "group's relays must hold (current security updates, builds its rollouts target).",
        ].join(' '),
        parameters: [pathParam('group', 'Relay group name.')],
        responses: {
          200: response('The catalog.', schemaRef('GroupCatalog')),
          404: error('No such group (code `unknown-group`).'),
        },
        ...routed,
      },
    },
    [`${base}/relays`]: {
      get: {
        operationId: 'listRelays',
        tags: ['relays'],
        summary: 'Relays: group, version, last seen, pending count, in sync, drift',
        responses: { 200: response('Every relay.', schemaRef('RelayList')) },
        ...routed,
      },
    },
    [`${base}/relays/summary`]: {
      get: {
        operationId: 'getRelaySummary',
        tags: ['relays'],
        summary: 'Are all relays in sync?',
        responses: { 200: response('The summary.', schemaRef('RelaySummary')) },
        ...routed,
      },
    },
    [`${base}/relays/{relayId}`]: {
      get: {
        operationId: 'getRelay',
        tags: ['relays'],
        summary: 'One relay, with its effective group',
        description: 'A relay may read only itself (else 403, code `relay-mismatch`).',
        parameters: [pathParam('relayId', 'Relay id.')],
        responses: {
          200: response('The relay.', schemaRef('RelayView')),
          404: error('Neither reported nor assigned (code `unknown-relay`).'),
        },
        ...routed,
      },
    },
    [`${base}/relays/{relayId}/group`]: {
      put: {
        operationId: 'assignRelayGroup',
        tags: ['relays'],
        summary: "Assign a relay to a group (overrides the relay's RELAY_GROUP)",
        parameters: [pathParam('relayId', 'Relay id.')],
        requestBody: { required: true, content: json(schemaRef('AssignRelayGroup')) },
        responses: {
          200: response('The relay.', schemaRef('RelayView')),
          400: error('Bad relay id or group name.'),
          404: error('No such group (code `unknown-group`).'),
        },
        ...routed,
      },
    },
    [`${base}/relays/{relayId}/results`]: {
      post: {
        operationId: 'postRelayResults',
        tags: ['relays'],
        summary: 'A relay reports what it verified and kept, or failed to',
        description: [
          'Up to 100 results. `relayed` is published once per relay and update',
          '(`updates.v1.relayed.<updateId>-<relayId>`; a repeat counts as a duplicate), `failed` once',
          'per attempt. The token must be the relay’s own (name = relayId, else 403 code',
          '`relay-mismatch`); every update must be published (else 404 code `unknown-update` naming',
          'them) and the relay known by a report or an assignment (else 409 `unknown-relay`):',
          'a refused batch publishes nothing.',
        ].join(' '),
        parameters: [pathParam('relayId', 'Relay id.')],
        requestBody: { required: true, content: json(schemaRef('RelayResults')) },
        responses: {
          202: response('Stored.', schemaRef('RelayResultsAccepted')),
          400: error('The body breaks its contract.'),
          404: error('Some update is not published (code `unknown-update`).'),
          409: error('The relay is unknown (code `unknown-relay`).'),
          503: error('Some results could not be stored; post again.'),
        },
        ...routed,
      },
    },
    [`${base}/provenance/key`]: {
      get: {
        operationId: 'getProvenanceKey',
        tags: ['relays'],
        summary: 'The public key provenance records are signed with',
        responses: { 200: response('The key.', schemaRef('ProvenanceKey')) },
        ...routed,
      },
    },
  };
}

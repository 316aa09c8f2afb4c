import { describeRoles, type Role } from '../auth';
import { schemaRef, type JsonObject } from './json-schema';

/**
 * Who may call each operation. The services' `@Roles(...)` decorators say the same for the
 * code; the end-to-end role matrix calls every operation as every role and checks both agree.
 */
export const OPERATION_ROLES: Readonly<Record<string, readonly Role[]>> = {
  requestFeedSync: ['operator'],
  getFeedSync: ['viewer'],
  importBundle: ['operator'],
  listUpdates: ['viewer'],
  getUpdate: ['viewer'],
  listAlerts: ['viewer'],
  getAlert: ['viewer'],
  ackAlert: ['operator'],
  postFleetReports: ['agent', 'relay', 'operator'],
  listFleet: ['viewer'],
  getFleetSummary: ['viewer'],
  getOpenApi: ['viewer'],
  listAudit: ['admin'],
  listVersionControl: ['viewer'],
  putVersionControl: ['operator'],
  listRollouts: ['viewer'],
  createRollout: ['operator'],
  getRollout: ['viewer'],
  pauseRollout: ['operator'],
  resumeRollout: ['operator'],
  cancelRollout: ['operator'],
  getAgentAssignment: ['agent', 'viewer'],
  downloadArtifact: ['agent', 'relay', 'operator'],
  downloadSignature: ['agent', 'relay', 'operator'],
  applySecurityUpdate: ['operator'],
  listRelayGroups: ['viewer'],
  createRelayGroup: ['operator'],
  getGroupCatalog: ['agent', 'relay', 'viewer'],
  listRelays: ['viewer'],
  getRelaySummary: ['viewer'],
  getRelay: ['relay', 'viewer'],
  assignRelayGroup: ['operator'],
  postRelayResults: ['relay'],
  getProvenanceKey: ['agent', 'relay', 'viewer'],
};

export const BEARER_SCHEME = 'bearerAuth';

const errorResponse = (description: string, headers?: JsonObject): JsonObject => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: schemaRef('ErrorBody') } },
});

/** The responses every secured operation may give, for `components.responses`. */
export const SECURITY_RESPONSES: JsonObject = {
  Unauthorized: errorResponse('No token, or a token that is unknown, expired or malformed.', {
    'WWW-Authenticate': {
      description: 'The Bearer challenge (RFC 6750).',
      schema: { type: 'string', example: 'Bearer realm="sup", error="invalid_token"' },
    },
  }),
  Forbidden: errorResponse(
    "The token's role may not call this operation; the body names the role needed.",
  ),
  PayloadTooLarge: errorResponse('The body is larger than the limit (`HTTP_JSON_LIMIT` for JSON).'),
  UnsupportedMediaType: errorResponse('The body is not of a media type the operation takes.'),
};

export const BEARER_SECURITY_SCHEME: JsonObject = {
  type: 'http',
  scheme: 'bearer',
  description: [
    'An API token listed (as its SHA-256) in `API_TOKENS_FILE`, or an OIDC access token (JWT) from',
    '`OIDC_ISSUER` for `OIDC_AUDIENCE`. Roles: `viewer` (reads) < `operator` (syncs, imports) <',
    '`admin` (trust anchors, configuration); the machine roles `agent` and `relay` only reach the',
    'operations that name them.',
  ].join(' '),
};

const ref = (name: string): JsonObject => ({ $ref: `#/components/responses/${name}` });
/**
 * Adds to every operation who may call it (`x-roles`, `security`) and the 401/403 answers, and
 * 413/415 to those with a body. Probes (`x-ingress: false`) need no token. An operation missing
 * from OPERATION_ROLES is documented as closed, as the services' guard treats it.
 */
export function withSecurity(paths: JsonObject): JsonObject {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item as Record<string, JsonObject>).map(([method, op]) => {
          if (op['x-ingress'] === false) return [method, { ...op, security: [] }];
          const roles = OPERATION_ROLES[op.operationId as string] ?? [];
          const responses = {
            ...(op.responses as JsonObject),
            401: ref('Unauthorized'),
            403: ref('Forbidden'),
            ...(op.requestBody
              ? { 413: ref('PayloadTooLarge'), 415: ref('UnsupportedMediaType') }
              : {}),
          };
          const needs =
            roles.length > 0 ? `Role: ${describeRoles(roles)}.` : 'Closed: names no role.';
          const description = op.description ? `${op.description as string} ${needs}` : needs;
          return [
            method,
            {
              ...op,
              description,
              security: [{ [BEARER_SCHEME]: [] }],
              'x-roles': [...roles],
              responses,
            },
          ];
        }),
      ),
    ]),
  );
}

import type { ZodTypeAny } from 'zod';
import {
  AgentAssignmentSchema,
  CreateRolloutBodySchema,
  PutVersionControlBodySchema,
  RolloutListSchema,
  RolloutSchema,
  VersionControlEntrySchema,
  VersionControlListSchema,
} from '../rollouts';
import { schemaRef, type JsonObject } from './json-schema';

/** Version control, rollouts and agent assignments in the OpenAPI document (distribution). */
export const ROLLOUT_API_SCHEMAS: Record<string, ZodTypeAny> = {
  PutVersionControl: PutVersionControlBodySchema,
  VersionControlEntry: VersionControlEntrySchema,
  VersionControlList: VersionControlListSchema,
  CreateRollout: CreateRolloutBodySchema,
  Rollout: RolloutSchema,
  RolloutList: RolloutListSchema,
  AgentAssignment: AgentAssignmentSchema,
};

const json = (schema: JsonObject): JsonObject => ({ 'application/json': { schema } });
const response = (description: string, schema?: JsonObject): JsonObject =>
  schema ? { description, content: json(schema) } : { description };
const error = (description: string) => response(description, schemaRef('ErrorBody'));
const param = (name: string, where: 'path' | 'query', description: string): JsonObject => ({
  name,
  in: where,
  required: where === 'path',
  description,
  schema: { type: 'string' },
});
const routed = { 'x-service': 'distribution' };
const rolloutId = param('id', 'path', 'Rollout id (`rol_<24 hex>`).');

const action = (verb: 'pause' | 'resume' | 'cancel', description: string): JsonObject => ({
  post: {
    operationId: `${verb}Rollout`,
    tags: ['rollouts'],
    summary: `${verb[0].toUpperCase()}${verb.slice(1)} a rollout`,
    description,
    parameters: [rolloutId],
    responses: {
      200: response('The rollout after the change.', schemaRef('Rollout')),
      400: error('Not a rollout id.'),
      404: error('No such rollout.'),
      409: error('Not possible in its state (code `invalid-transition`).'),
    },
    ...routed,
  },
});

export function rolloutApiPaths(base: string): JsonObject {
  return {
    [`${base}/version-control`]: {
      get: {
        operationId: 'listVersionControl',
        tags: ['rollouts'],
        summary: 'Agent version control per platform, and the build each resolves to',
        responses: {
          200: response('Every platform with a setting.', schemaRef('VersionControlList')),
        },
        ...routed,
      },
    },
    [`${base}/version-control/{platform}`]: {
      put: {
        operationId: 'putVersionControl',
        tags: ['rollouts'],
        summary: 'Set which agent build agents of a platform upgrade to',
        description: [
          '`latest`: the newest published agent build of the platform; `pinned`: the published',
          'agent build `updateId`; `lag` 1 or 2: the newest build of the `major.minor` line that',
          'many lines below the newest (nothing when fewer lines exist). A rollout overrides it for',
          'its agents.',
        ].join(' '),
        parameters: [param('platform', 'path', 'Platform, e.g. `linux-x86_64`.')],
        requestBody: { required: true, content: json(schemaRef('PutVersionControl')) },
        responses: {
          200: response('The setting and what it resolves to.', schemaRef('VersionControlEntry')),
          400: error('A bad body or platform.'),
          409: error(
            'The pinned update is not a published agent build of the platform (code `pinned-not-available`).',
          ),
        },
        ...routed,
      },
    },
    [`${base}/rollouts`]: {
      get: {
        operationId: 'listRollouts',
        tags: ['rollouts'],
        summary: 'Rollouts, newest first',
        responses: { 200: response('Every rollout (without history).', schemaRef('RolloutList')) },
        ...routed,
      },
      post: {
        operationId: 'createRollout',
        tags: ['rollouts'],
        summary: 'Roll an agent build out in waves, relays first',
        description: [
          'Fixes its agents at creation from the fleet read model (agents of the platform, in the',
          'group or every group, optionally only `agentIds`; at most 10,000) and cuts them into',
          'waves by SHA-256 of rollout and agent id. A wave starts only when every relay of the',
          "agents' groups has relayed the build (state `waiting-for-relays`, `waitingForRelays`);",
          'it succeeds when `successThreshold`% of its agents report the target version and halts',
          'the rollout when `errorThreshold`% report a failed install of it. A relay older than the',
          'target is refused (`relayPolicy: refuse`, 409 `relay-older-than-target`) or upgraded in a',
          'first wave (`upgrade-relays-first`, which needs a published relay build at least as new).',
          'Every change is `rollouts.v1.changed.<id>-<revision>`. Errors carry a `code`:',
          '`unknown-group` (404), `update-not-published`, `not-an-agent-build`, `platform-mismatch`,',
          '`no-target-agents`, `too-many-agents`, `conflicting-rollout`, `too-many-rollouts`,',
          '`no-relay-build` (409); nothing is changed by a refused request.',
        ].join(' '),
        requestBody: { required: true, content: json(schemaRef('CreateRollout')) },
        responses: {
          201: response('The rollout, created.', schemaRef('Rollout')),
          400: error('Bad waves, thresholds or target.'),
          404: error('Unknown relay group (code `unknown-group`).'),
          409: error('Refused; the code and message say why.'),
        },
        ...routed,
      },
    },
    [`${base}/rollouts/{id}`]: {
      get: {
        operationId: 'getRollout',
        tags: ['rollouts'],
        summary: 'A rollout: state, waves and counts, relays waited for, history',
        parameters: [rolloutId],
        responses: {
          200: response('The rollout.', schemaRef('Rollout')),
          400: error('Not a rollout id.'),
          404: error('No such rollout.'),
        },
        ...routed,
      },
    },
    [`${base}/rollouts/{id}/pause`]: action(
      'pause',
      'Stops starting and evaluating waves until resumed.',
    ),
    [`${base}/rollouts/{id}/resume`]: action('resume', 'A paused rollout goes on where it was.'),
    [`${base}/rollouts/{id}/cancel`]: action(
      'cancel',
      'Ends an unfinished rollout; agents not yet reached are no longer offered its build.',
    ),
    [`${base}/agents/{agentId}/assignment`]: {
      get: {
        operationId: 'getAgentAssignment',
        tags: ['rollouts'],
        summary: 'What an agent should run, and the relays to fetch it from',
        description: [
          "Relays of the agent's group shuffled (relays not seen lately last), the control plane as",
          'fallback, the software build (its rollout wave once started, else the version-control',
          'build when newer than what it runs) and the current security update per component. The',
          "agent's platform and group come from its last fleet report; a new agent passes them.",
        ].join(' '),
        parameters: [
          param('agentId', 'path', 'The agent (computer) id.'),
          param('platform', 'query', 'Before its first report: its platform.'),
          param('group', 'query', 'Before its first report: its relay group.'),
          param('version', 'query', 'Before its first report: the build it runs.'),
        ],
        responses: {
          200: response('The assignment.', schemaRef('AgentAssignment')),
          400: error('A bad id or query.'),
          404: error('Unknown agent and no platform and group given (code `unknown-agent`).'),
        },
        ...routed,
      },
    },
  };
}

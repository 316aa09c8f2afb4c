import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { eventType } from '../cloud-event';
import { DeadLetterSchema, DLQ_SUBJECT_PATTERN } from '../dead-letter';
import { EVENT_SCHEMAS } from '../events';
import { SERVICE_NAMES } from '../services';
import { ALL_SUBJECTS, dlqSubject, STREAMS, SUBJECTS } from '../subjects';
import { REJECTION_STAGES } from '../update';
import { buildAsyncApi, EVENT_DOCS, streamFor, subjectMatches } from './asyncapi';
import {
  CONTRACT_DOCUMENTS,
  CONTRACTS_GENERATE_COMMAND,
  renderDocument,
  type JsonObject,
} from './index';
import { collectRefs, refResolves } from './json-schema';
import { API_ROUTES, serviceForPath } from '../api-routes';
import { buildOpenApi } from './openapi';

const REPOSITORY_ROOT = resolve(__dirname, '../../../..');

/** Paths where two JSON values differ, for a readable failure. */
function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (out.length >= 10) return out;
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(key in a)) out.push(`${path}.${key}: missing from the committed file`);
      else if (!(key in b)) out.push(`${path}.${key}: no longer generated`);
      else differences(a[key], b[key], `${path}.${key}`, out);
    }
  } else if (!isDeepStrictEqual(a, b)) {
    out.push(
      `${path}: committed ${JSON.stringify(a)?.slice(0, 80)}, generated ${JSON.stringify(b)?.slice(0, 80)}`,
    );
  }
  return out;
}

const asyncapi = buildAsyncApi();
const openapi = buildOpenApi();
const channels = asyncapi.channels as Record<string, JsonObject>;
const asyncSchemas = (asyncapi.components as { schemas: Record<string, JsonObject> }).schemas;
const asyncMessages = (asyncapi.components as { messages: Record<string, JsonObject> }).messages;
const paths = openapi.paths as Record<string, Record<string, JsonObject>>;
const openSchemas = (openapi.components as { schemas: Record<string, JsonObject> }).schemas;

const deref = (doc: JsonObject, node: JsonObject): JsonObject => {
  let current = node;
  while (typeof current.$ref === 'string') {
    current = current.$ref
      .slice(2)
      .split('/')
      .reduce<JsonObject>((n, key) => n[key] as JsonObject, doc);
  }
  return current;
};

/** Channels are per entity: `<type>.{entityId}`. */
const ch = (subject: string): string => `${subject}.{entityId}`;

describe('committed contract documents', () => {
  it.each(CONTRACT_DOCUMENTS.map((d) => [d.file, d.build] as const))(
    '%s matches what the code generates',
    (file, build) => {
      const path = resolve(REPOSITORY_ROOT, file);
      const hint = `Run \`${CONTRACTS_GENERATE_COMMAND}\` and commit ${file}.`;
      if (!existsSync(path)) throw new Error(`${file} is missing. ${hint}`);
      const committed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      const generated: unknown = JSON.parse(renderDocument(build()));
      if (!isDeepStrictEqual(committed, generated)) {
        throw new Error(
          `${file} is out of date with libs/contracts. ${hint}\n  ${differences(committed, generated).join('\n  ')}`,
        );
      }
    },
  );

  it('generates the same documents every time', () => {
    expect(renderDocument(buildAsyncApi())).toBe(renderDocument(asyncapi));
    expect(renderDocument(buildOpenApi())).toBe(renderDocument(openapi));
  });

  it('renders 2-space JSON with a trailing newline', () => {
    expect(renderDocument({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}\n');
  });

  it.each([
    ['asyncapi', asyncapi],
    ['openapi', openapi],
  ])('%s: every $ref resolves', (_name, doc) => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter(({ ref }) => !refResolves(doc, ref))).toEqual([]);
  });
});

describe('AsyncAPI document', () => {
  it('is AsyncAPI 2.6 with the local NATS server', () => {
    expect(asyncapi.asyncapi).toBe('2.6.0');
    expect(asyncapi.servers).toEqual({
      local: expect.objectContaining({ url: 'nats://localhost:4222', protocol: 'nats' }),
    });
  });

  it('has a channel for every subject, and nothing but subjects and the DLQ', () => {
    for (const subject of Object.values(SUBJECTS)) expect(channels).toHaveProperty([ch(subject)]);
    expect(Object.keys(channels).sort()).toEqual(
      [...ALL_SUBJECTS.map(ch), DLQ_SUBJECT_PATTERN].sort(),
    );
  });

  it('covers every EVENT_SCHEMAS key, and documents nothing else', () => {
    expect(Object.keys(EVENT_DOCS).sort()).toEqual(Object.keys(EVENT_SCHEMAS).sort());
    for (const subject of Object.keys(EVENT_SCHEMAS))
      expect(channels).toHaveProperty([ch(subject)]);
  });

  it.each([...ALL_SUBJECTS])(
    '%s: a subscribe operation whose payload is the CloudEvent of its schema',
    (subject) => {
      const channel = channels[ch(subject)];
      expect(channel).not.toHaveProperty('publish');
      const operation = channel.subscribe as JsonObject;
      const message = deref(asyncapi, operation.message as JsonObject);
      expect(message.messageId).toBe(subject);
      const envelope = deref(asyncapi, message.payload as JsonObject);
      const properties = envelope.properties as Record<string, JsonObject>;
      expect(properties.type).toEqual({ type: 'string', const: eventType(subject) });
      expect(properties.type.const).toBe(`io.signed-update-pipeline.${subject}`);
      expect(properties.specversion).toEqual({ type: 'string', const: '1.0' });
      expect(properties.datacontenttype).toEqual({ type: 'string', const: 'application/json' });
      expect(envelope.required).toEqual([
        'specversion',
        'id',
        'source',
        'type',
        'time',
        'datacontenttype',
        'data',
      ]);
      const data = deref(asyncapi, properties.data);
      const schemaName = EVENT_DOCS[subject].name;
      expect(properties.data).toEqual({ $ref: `#/components/schemas/${schemaName}` });
      // The data schema lists exactly the fields of the zod schema.
      expect(Object.keys(data.properties as object).sort()).toEqual(
        Object.keys(EVENT_SCHEMAS[subject].shape).sort(),
      );
      expect(channel['x-stream']).toBe(streamFor(subject));
      expect(message.headers).toMatchObject({ required: ['Nats-Msg-Id'] });
    },
  );

  it('names who emits each event', () => {
    const emitters = (subject: string): string[] =>
      (channels[ch(subject)]['x-emitted-by'] as { service: string }[]).map((e) => e.service);
    expect(emitters(SUBJECTS.imported)).toEqual(['ingest']);
    expect(emitters(SUBJECTS.checksumVerified)).toEqual(['checksum']);
    expect(emitters(SUBJECTS.validated)).toEqual(['signature-validator']);
    expect(emitters(SUBJECTS.published)).toEqual(['distribution']);
    expect(emitters(SUBJECTS.alertRaised)).toEqual(['alerting']);
    expect(emitters(SUBJECTS.alertResolved)).toEqual(['alerting']);
    expect(emitters(SUBJECTS.alertAcknowledged)).toEqual(['alerting']);
    expect(emitters(SUBJECTS.syncRequested)).toEqual(['ingest']);
    for (const subject of ALL_SUBJECTS) {
      for (const service of emitters(subject)) expect(SERVICE_NAMES).toContain(service);
    }
  });

  it('assigns every rejection stage to exactly one emitter of updates.v1.rejected', () => {
    const rejected = channels[ch(SUBJECTS.rejected)]['x-emitted-by'] as {
      service: string;
      stages: string[];
    }[];
    expect(rejected.map((e) => [e.service, e.stages])).toEqual([
      ['ingest', ['feed']],
      ['checksum', ['checksum']],
      ['signature-validator', ['signature', 'policy']],
    ]);
    expect(rejected.flatMap((e) => e.stages).sort()).toEqual([...REJECTION_STAGES].sort());
  });

  it('documents the dead-letter channel and its payload', () => {
    expect(DLQ_SUBJECT_PATTERN).toBe(dlqSubject('{service}', '{subject}'));
    expect(DLQ_SUBJECT_PATTERN).toBe('dlq.v1.{service}.{subject}');
    const channel = channels[DLQ_SUBJECT_PATTERN];
    expect(channel['x-stream']).toBe('DLQ');
    expect(Object.keys(channel.parameters as object)).toEqual(['service', 'subject']);
    const message = deref(asyncapi, (channel.subscribe as JsonObject).message as JsonObject);
    const payload = deref(asyncapi, message.payload as JsonObject);
    const required = [
      'service',
      'consumer',
      'subject',
      'streamSeq',
      'deliveries',
      'error',
      'failedAt',
      'event',
    ];
    const fields = [...required.slice(0, 3), 'originalSubject', ...required.slice(3)];
    expect(Object.keys(payload.properties as object)).toEqual(fields);
    expect(payload.required).toEqual(required);
    expect(Object.keys(DeadLetterSchema.shape)).toEqual(fields);
    expect(asyncMessages).toHaveProperty('DeadLetter');
  });

  it('describes the delivery guarantees and every stream', () => {
    const description = (asyncapi.info as JsonObject).description as string;
    expect(description).toMatch(/at least once/i);
    expect(description).toMatch(/Nats-Msg-Id/);
    expect(description).toMatch(/duplicate window/);
    expect(description).toMatch(/idempotent/i);
    for (const stream of STREAMS) expect(description).toContain(`| ${stream.name} |`);
    expect(asyncapi['x-streams']).toEqual(STREAMS);
  });

  it('stores every subject in exactly one stream, and dead letters in DLQ', () => {
    expect(ALL_SUBJECTS.map((s) => [s, streamFor(s)])).toEqual([
      [SUBJECTS.imported, 'UPDATES'],
      [SUBJECTS.checksumVerified, 'UPDATES'],
      [SUBJECTS.validated, 'UPDATES'],
      [SUBJECTS.published, 'UPDATES'],
      [SUBJECTS.rejected, 'UPDATES'],
      [SUBJECTS.relayed, 'UPDATES'],
      [SUBJECTS.relayFailed, 'UPDATES'],
      [SUBJECTS.withdrawn, 'UPDATES'],
      [SUBJECTS.alertRaised, 'ALERTS'],
      [SUBJECTS.alertResolved, 'ALERTS'],
      [SUBJECTS.alertAcknowledged, 'ALERTS'],
      [SUBJECTS.syncRequested, 'FEEDS'],
      [SUBJECTS.entryRequested, 'FEEDS'],
      [SUBJECTS.syncFinished, 'SYNCS'],
      [SUBJECTS.auditAction, 'AUDIT'],
      [SUBJECTS.fleetReported, 'FLEET'],
      [SUBJECTS.rolloutChanged, 'ROLLOUTS'],
    ]);
    for (const service of SERVICE_NAMES) {
      for (const subject of ALL_SUBJECTS)
        expect(streamFor(dlqSubject(service, subject))).toBe('DLQ');
    }
    expect(() => streamFor('other.v1.x')).toThrow(/0 streams/);
  });

  it('matches NATS wildcards', () => {
    expect(subjectMatches('updates.v1.>', 'updates.v1.imported')).toBe(true);
    expect(subjectMatches('updates.v1.>', 'updates.v1')).toBe(false);
    expect(subjectMatches('updates.*.imported', 'updates.v1.imported')).toBe(true);
    expect(subjectMatches('updates.*', 'updates.v1.imported')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
  });

  it('uses unique operation ids', () => {
    const ids = Object.values(channels).map((c) => (c.subscribe as JsonObject).operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('OpenAPI document', () => {
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
  const op = (method: string, path: string): JsonObject => {
    const found = paths[path]?.[method];
    if (!found) throw new Error(`no ${method.toUpperCase()} ${path}`);
    return found;
  };
  const responseSchema = (operation: JsonObject, status: number): JsonObject => {
    const response = deref(openapi, (operation.responses as Record<string, JsonObject>)[status]);
    return (response.content as Record<string, { schema: JsonObject }>)['application/json'].schema;
  };

  it('is OpenAPI 3.1 served at http://127.0.0.1:8080', () => {
    expect(openapi.openapi).toBe('3.1.0');
    expect(openapi.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:8080' })]);
  });

  it('has exactly the documented operations', () => {
    expect(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual(
      [
        'POST /v1/feeds/sync',
        'GET /v1/feeds/syncs/{id}',
        'POST /v1/imports',
        'GET /v1/updates',
        'GET /v1/updates/{id}',
        'GET /v1/alerts',
        'GET /v1/alerts/{id}',
        'POST /v1/alerts/{id}/ack',
        'GET /v1/audit',
        'GET /v1/openapi.json',
        'POST /v1/fleet/reports',
        'GET /v1/fleet',
        'GET /v1/fleet/summary',
        'GET /v1/version-control',
        'PUT /v1/version-control/{platform}',
        'GET /v1/rollouts',
        'POST /v1/rollouts',
        'GET /v1/rollouts/{id}',
        'POST /v1/rollouts/{id}/pause',
        'POST /v1/rollouts/{id}/resume',
        'POST /v1/rollouts/{id}/cancel',
        'GET /v1/agents/{agentId}/assignment',
        'GET /v1/updates/{id}/artifact',
        'GET /v1/updates/{id}/signature',
        'POST /v1/updates/{id}/apply',
        'GET /v1/relay-groups',
        'POST /v1/relay-groups',
        'GET /v1/relay-groups/{group}/catalog',
        'GET /v1/relays',
        'GET /v1/relays/summary',
        'GET /v1/relays/{relayId}',
        'PUT /v1/relays/{relayId}/group',
        'POST /v1/relays/{relayId}/results',
        'GET /v1/provenance/key',
        'GET /healthz/live',
        'GET /healthz/ready',
      ].sort(),
    );
    const ids = operations.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('tags every routed operation with the service the ingress sends its prefix to', () => {
    const owner = (path: string): string | undefined =>
      serviceForPath(path.replace(/\{[^}]+\}/g, 'x'));
    for (const { path, op: operation } of operations) {
      if (path.startsWith('/healthz/')) {
        expect(owner(path)).toBeUndefined();
        expect(operation['x-ingress']).toBe(false);
        expect(operation['x-services']).toEqual([...SERVICE_NAMES]);
      } else {
        expect([path, operation['x-service']]).toEqual([path, owner(path)]);
      }
    }
    expect(op('post', '/v1/feeds/sync')['x-service']).toBe('ingest');
    expect(op('post', '/v1/imports')['x-service']).toBe('ingest');
    expect(op('get', '/v1/updates')['x-service']).toBe('distribution');
    expect(op('get', '/v1/openapi.json')['x-service']).toBe('distribution');
    expect(op('get', '/v1/alerts')['x-service']).toBe('alerting');
    expect(openapi['x-ingress-routes']).toEqual(API_ROUTES);
  });

  it('documents feed syncs', () => {
    const sync = op('post', '/v1/feeds/sync');
    expect(
      deref(
        openapi,
        (sync.requestBody as { content: Record<string, { schema: JsonObject }> }).content[
          'application/json'
        ].schema,
      ),
    ).toEqual({
      type: 'object',
      properties: { url: { type: 'string', minLength: 1, maxLength: 2048 } },
      additionalProperties: false,
    });
    expect(deref(openapi, responseSchema(sync, 202))).toMatchObject({ required: ['id'] });
    expect(responseSchema(sync, 400)).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    const status = op('get', '/v1/feeds/syncs/{id}');
    expect(responseSchema(status, 200)).toEqual({ $ref: '#/components/schemas/SyncStatus' });
    expect(responseSchema(status, 404)).toEqual({ $ref: '#/components/schemas/ErrorBody' });
  });

  it('documents the signed-bundle import: multipart, zip or tar, and every refusal', () => {
    const imports = op('post', '/v1/imports');
    const content = (imports.requestBody as { content: Record<string, { schema: JsonObject }> })
      .content;
    expect(Object.keys(content).sort()).toEqual([
      'application/x-tar',
      'application/zip',
      'multipart/form-data',
    ]);
    const form = content['multipart/form-data'].schema;
    expect(form.required).toEqual(['index.json', 'index.json.p7s']);
    expect(form.additionalProperties).toEqual({ type: 'string', format: 'binary' });
    expect(content['application/zip'].schema).toEqual({ type: 'string', format: 'binary' });
    expect(Object.keys(imports.responses as object).sort()).toEqual(
      ['200', '202', '400', '401', '403', '413', '415', '422', '503', '507'].sort(),
    );
    expect(responseSchema(imports, 200)).toEqual({ $ref: '#/components/schemas/ImportAccepted' });
    expect(responseSchema(imports, 202)).toEqual({ $ref: '#/components/schemas/ImportAccepted' });
    const accepted = deref(openapi, { $ref: '#/components/schemas/ImportAccepted' });
    expect(accepted).toMatchObject({ required: ['id', 'feed', 'sequence', 'entries'] });
  });

  it('documents update and alert listings with their query parameters', () => {
    const list = op('get', '/v1/updates');
    const params = list.parameters as JsonObject[];
    expect(params.map((p) => [p.name, p.in, p.required])).toEqual([
      ['kind', 'query', false],
      ['component', 'query', false],
      ['state', 'query', false],
      ['limit', 'query', false],
      ['offset', 'query', false],
    ]);
    expect(params[3].schema).toEqual({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
    expect(params[4].schema).toEqual({
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      default: 0,
    });
    expect(responseSchema(list, 200)).toEqual({ $ref: '#/components/schemas/UpdateList' });
    const detail = op('get', '/v1/updates/{id}');
    expect(responseSchema(detail, 200)).toEqual({ $ref: '#/components/schemas/UpdateDetail' });
    expect(responseSchema(detail, 404)).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    expect(openSchemas.UpdateDetail.properties).toHaveProperty('history');
    const alerts = op('get', '/v1/alerts');
    expect((alerts.parameters as JsonObject[]).map((p) => p.name)).toEqual([
      'state',
      'severity',
      'rule',
      'limit',
      'offset',
    ]);
    expect(responseSchema(alerts, 200)).toEqual({ $ref: '#/components/schemas/AlertList' });
  });

  it('documents the health probes', () => {
    expect(responseSchema(op('get', '/healthz/live'), 200)).toEqual({
      $ref: '#/components/schemas/Health',
    });
    const ready = op('get', '/healthz/ready');
    expect(responseSchema(ready, 200)).toEqual({ $ref: '#/components/schemas/Health' });
    expect(responseSchema(ready, 503)).toEqual({ $ref: '#/components/schemas/Health' });
  });

  it('uses nothing from OpenAPI 3.0 that 3.1 dropped', () => {
    const text = JSON.stringify(openapi);
    expect(text).not.toMatch(/"nullable"/);
    expect(text).not.toMatch(/"exclusive(Minimum|Maximum)":(true|false)/);
  });

  it('keeps the AsyncAPI and OpenAPI schemas free of zod-to-json-schema $schema markers', () => {
    expect(JSON.stringify(asyncSchemas)).not.toMatch(/"\$schema"/);
    expect(JSON.stringify(openSchemas)).not.toMatch(/"\$schema"/);
  });
});

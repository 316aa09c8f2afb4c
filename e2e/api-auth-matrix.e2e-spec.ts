import { jetstreamManager } from '@nats-io/jetstream';
import {
  buildOpenApi,
  HUMAN_ROLES,
  MACHINE_ROLES,
  OPERATION_ROLES,
  roleAllows,
} from '@sup/contracts';
import {
  buildFeed,
  bundleFilesOf,
  createTestPki,
  freePort,
  multipartBundle,
  Pipeline,
  serviceEntry,
  startProcess,
  waitForReady,
  type BundleFileSpec,
  type Caller,
} from '@sup/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates } from './helpers';

jest.setTimeout(240_000);

interface Route {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** A request an allowed caller gets a normal answer to, and what that answer is. */
  /** Per caller where the answer depends on who asks (a relay posts only its own report). */
  body?: (as: Caller) => unknown;
  ok: number[];
}

const NO_SYNC = 'sync_000000000000000000000000';
const NO_UPDATE = 'upd_000000000000000000000000';
const NO_ROLLOUT = 'rol_000000000000000000000000';
const NO_ALERT = 'alert_update-rejected_upd_000000000000000000000000';
const CALLERS: { name: string; as: Caller }[] = [
  { name: 'no token', as: 'anonymous' },
  { name: 'bad token', as: { token: 'sup_admin_not-a-real-token' } },
  ...[...HUMAN_ROLES, ...MACHINE_ROLES].map((role) => ({ name: role, as: role })),
];

/**
 * Every operator route x every kind of caller, against the real services: the status each gets
 * comes from the roles the OpenAPI document states, so code (`@Roles`) and contract must agree;
 * a refused call changes nothing.
 */
describe('API roles: every route x every caller', () => {
  let pipeline: Pipeline;
  let root: string;
  let feedUrl: string;
  let bundle: BundleFileSpec[];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-auth-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-090' }],
    });
    feedUrl = feed.url;
    const imported = await buildFeed(join(root, 'bundle'), pki, {
      feed: 'bundle-feed',
      updates: [{ kind: 'security', component: 'intrusion-prevention-rules', version: '26-091' }],
    });
    bundle = await bundleFilesOf(imported);
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(root).href),
    });
  });
  afterAll(() => pipeline?.stop());

  const routes = (): Route[] => [
    {
      operationId: 'requestFeedSync',
      method: 'POST',
      path: '/v1/feeds/sync',
      body: () => ({ url: feedUrl }),
      ok: [202],
    },
    { operationId: 'getFeedSync', method: 'GET', path: `/v1/feeds/syncs/${NO_SYNC}`, ok: [404] },
    {
      operationId: 'importBundle',
      method: 'POST',
      path: '/v1/imports',
      body: () => multipartBundle(bundle),
      ok: [200, 202],
    },
    { operationId: 'listUpdates', method: 'GET', path: '/v1/updates', ok: [200] },
    { operationId: 'getUpdate', method: 'GET', path: `/v1/updates/${NO_UPDATE}`, ok: [404] },
    { operationId: 'listAlerts', method: 'GET', path: '/v1/alerts', ok: [200] },
    { operationId: 'getAlert', method: 'GET', path: `/v1/alerts/${NO_ALERT}`, ok: [404] },
    { operationId: 'ackAlert', method: 'POST', path: `/v1/alerts/${NO_ALERT}/ack`, ok: [404] },
    {
      operationId: 'postFleetReports',
      method: 'POST',
      path: '/v1/fleet/reports',
      body: (as) => ({
        reports: [
          {
            // The harness names each role's token `test-<role>`: a relay's own report.
            ...(as === 'relay'
              ? { id: 'test-relay', role: 'relay' }
              : { id: 'matrix-pc', role: 'agent' }),
            platform: 'linux-x86_64',
            version: '20.0.1-1',
            relayGroup: 'default',
            securityUpdates: {},
            seenAt: '2026-11-29T10:00:00Z',
          },
        ],
      }),
      ok: [202],
    },
    { operationId: 'listFleet', method: 'GET', path: '/v1/fleet', ok: [200] },
    { operationId: 'getFleetSummary', method: 'GET', path: '/v1/fleet/summary', ok: [200] },
    { operationId: 'getOpenApi', method: 'GET', path: '/v1/openapi.json', ok: [200] },
    { operationId: 'listAudit', method: 'GET', path: '/v1/audit', ok: [200] },
    ...relayRoutes(),
  ];
  /** The relays' control plane (distribution); `test-relay` is the relay token's name. */
  const relayRoutes = (): Route[] => [
    {
      operationId: 'downloadArtifact',
      method: 'GET',
      path: `/v1/updates/${NO_UPDATE}/artifact`,
      ok: [404],
    },
    {
      operationId: 'downloadSignature',
      method: 'GET',
      path: `/v1/updates/${NO_UPDATE}/signature`,
      ok: [404],
    },
    {
      operationId: 'applySecurityUpdate',
      method: 'POST',
      path: `/v1/updates/${NO_UPDATE}/apply`,
      ok: [409],
    },
    { operationId: 'listRelayGroups', method: 'GET', path: '/v1/relay-groups', ok: [200] },
    {
      operationId: 'createRelayGroup',
      method: 'POST',
      path: '/v1/relay-groups',
      body: () => ({ name: 'matrix-group' }),
      ok: [201, 409],
    },
    {
      operationId: 'getGroupCatalog',
      method: 'GET',
      path: '/v1/relay-groups/no-such-group/catalog',
      ok: [404],
    },
    { operationId: 'listRelays', method: 'GET', path: '/v1/relays', ok: [200] },
    { operationId: 'getRelaySummary', method: 'GET', path: '/v1/relays/summary', ok: [200] },
    // Known once the relay's own fleet report (above) is processed.
    { operationId: 'getRelay', method: 'GET', path: '/v1/relays/test-relay', ok: [200, 404] },
    {
      operationId: 'assignRelayGroup',
      method: 'PUT',
      path: '/v1/relays/matrix-relay/group',
      body: () => ({ group: 'no-such-group' }),
      ok: [404],
    },
    {
      operationId: 'postRelayResults',
      method: 'POST',
      path: '/v1/relays/test-relay/results',
      body: () => ({
        results: [{ updateId: NO_UPDATE, state: 'relayed', sha256: 'a'.repeat(64) }],
      }),
      // Unknown relay until its report is processed, then an unknown update: nothing published.
      ok: [404, 409],
    },
    { operationId: 'getProvenanceKey', method: 'GET', path: '/v1/provenance/key', ok: [200] },
    { operationId: 'listVersionControl', method: 'GET', path: '/v1/version-control', ok: [200] },
    {
      operationId: 'putVersionControl',
      method: 'PUT',
      path: '/v1/version-control/linux-x86_64',
      body: () => ({ policy: 'latest' }),
      ok: [200],
    },
    { operationId: 'listRollouts', method: 'GET', path: '/v1/rollouts', ok: [200] },
    {
      operationId: 'createRollout',
      method: 'POST',
      path: '/v1/rollouts',
      body: () => ({
        updateId: NO_UPDATE,
        target: { platform: 'linux-x86_64' },
        waves: [100],
        successThreshold: 100,
        errorThreshold: 100,
      }),
      ok: [409],
    },
    { operationId: 'getRollout', method: 'GET', path: `/v1/rollouts/${NO_ROLLOUT}`, ok: [404] },
    ...(['pause', 'resume', 'cancel'] as const).map((verb) => ({
      operationId: `${verb}Rollout`,
      method: 'POST' as const,
      path: `/v1/rollouts/${NO_ROLLOUT}/${verb}`,
      ok: [404],
    })),
    {
      operationId: 'getAgentAssignment',
      method: 'GET',
      path: '/v1/agents/matrix-pc/assignment?platform=linux-x86_64&group=default',
      ok: [200],
    },
  ];
  const expected = (route: Route, as: Caller): number[] => {
    if (typeof as !== 'string' || as === 'anonymous') return [401];
    const roles = OPERATION_ROLES[route.operationId];
    if (!roles) throw new Error(`OPERATION_ROLES names no role for ${route.operationId}`);
    return roleAllows(as, roles) ? route.ok : [403];
  };
  const call = (route: Route, as: Caller) =>
    pipeline.api<{ message?: string }>(route.method, route.path, route.body?.(as), { as });

  /** Messages ever published on the streams a refused call could have written to. */
  const published = async (): Promise<Record<string, number>> => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const out: Record<string, number> = {};
      for (const stream of ['FEEDS', 'UPDATES'])
        out[stream] = (await jsm.streams.info(stream)).state.last_seq;
      return out;
    } finally {
      await nc.close();
    }
  };

  it('covers every routed operation of the OpenAPI document', () => {
    const documented = Object.values(
      buildOpenApi().paths as Record<
        string,
        Record<string, { operationId: string; 'x-ingress'?: boolean }>
      >,
    )
      .flatMap((item) => Object.values(item))
      .filter((op) => op['x-ingress'] !== false)
      .map((op) => op.operationId);
    expect(routes().map((r) => r.operationId)).toEqual(expect.arrayContaining(documented));
  });

  /** Every route x caller with the statuses that caller must get. */
  const matrix = () =>
    routes().flatMap((route) =>
      CALLERS.map((caller) => {
        const want = expected(route, caller.as);
        return {
          route,
          caller,
          want,
          allowed: want === route.ok,
          what: `${route.method} ${route.path} as ${caller.name}`,
        };
      }),
    );

  it('refuses callers without a token, with a bad one or with too small a role, and changes nothing', async () => {
    const before = await published();
    const refused = matrix().filter((m) => !m.allowed);
    for (const { route, caller, want, what } of refused) {
      const res = await call(route, caller.as);
      expect([what, res.status]).toEqual([what, want[0]]);
      if (res.status === 403)
        expect([what, res.body.message]).toEqual([what, expect.stringMatching(/role .+ needed/)]);
    }
    // Nothing was synced, imported or published by any of them.
    expect(await published()).toEqual(before);
    expect(await allUpdates(pipeline)).toEqual([]);
  });

  it('refuses bodies a JSON route does not take (415, 413) and bad query numbers (400), changing nothing', async () => {
    const before = await published();
    const port = pipeline.ports.get('ingest');
    const post = (type: string, body: string) =>
      fetch(`http://127.0.0.1:${port}/v1/feeds/sync`, {
        method: 'POST',
        headers: { ...pipeline.authHeaders('operator'), 'content-type': type },
        body,
      });
    // What a cross-site form can send without asking: plain text and form encodings.
    expect((await post('text/plain', JSON.stringify({ url: feedUrl }))).status).toBe(415);
    expect(
      (await post('application/x-www-form-urlencoded', `url=${encodeURIComponent(feedUrl)}`))
        .status,
    ).toBe(415);
    expect((await post('multipart/form-data; boundary=x', '--x--')).status).toBe(415);
    const big = await post(
      'application/json',
      JSON.stringify({ url: feedUrl, pad: 'x'.repeat(100_000) }),
    );
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      statusCode: 413,
      message: expect.stringContaining('65536 bytes'),
    });
    for (const query of ['offset=1e300', 'limit=-1', 'limit=1e9', 'offset=0x10', 'limit=']) {
      const res = await pipeline.api('GET', `/v1/updates?${query}`, undefined, { as: 'viewer' });
      expect([query, res.status]).toEqual([query, 400]);
    }
    expect(await published()).toEqual(before);
  });

  it('serves each route to the roles it names, and attributes what they do', async () => {
    const nc = await pipeline.connectNats();
    const requested: unknown[] = [];
    const sub = nc.subscribe('feeds.v1.sync-requested.>', {
      callback: (_err, msg) => {
        requested.push(msg.json<{ data: { requestedBy?: unknown } }>().data.requestedBy);
      },
    });
    try {
      for (const { route, caller, want, what } of matrix().filter((m) => m.allowed)) {
        const res = await call(route, caller.as);
        expect([what, res.status, want.includes(res.status) ? '' : res.body]).toEqual([
          what,
          res.status,
          '',
        ]);
      }
      await nc.flush();
      // Each sync request names who asked for it, on its event.
      expect(requested).toEqual(
        expect.arrayContaining([
          { type: 'token', name: 'test-operator', role: 'operator' },
          { type: 'token', name: 'test-admin', role: 'admin' },
        ]),
      );
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
    // The request log names who asked too, and never holds a token.
    const log = await readFile(pipeline.logFile('ingest'), 'utf8');
    const line = log
      .split('\n')
      .find((l) => l.includes('"url":"/v1/feeds/sync"') && l.includes('"name":"test-operator"'));
    expect(line?.split('"actor"')).toHaveLength(2); // once, on the final line
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      req: { method: 'POST' },
      actor: { type: 'token', name: 'test-operator', role: 'operator' },
    });
    for (const token of pipeline.tokens.values()) expect(log).not.toContain(token);
  });

  it('answers probes without a token', async () => {
    for (const [instance, port] of pipeline.ports) {
      const res = await fetch(`http://127.0.0.1:${port}/healthz/live`);
      expect([instance, res.status]).toEqual([instance, 200]);
    }
  });

  it('stops a service whose token file is unusable (exit 2, naming the file)', () => {
    const file = join(root, 'broken-tokens.json');
    writeFileSync(file, JSON.stringify({ tokens: [{ name: 'x', role: 'root', sha256: '00' }] }));
    const run = spawnSync(process.execPath, [serviceEntry('alerting')], {
      env: { PATH: process.env.PATH, API_TOKENS_FILE: file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('API_TOKENS_FILE');
    expect(run.stderr).toContain('role');
  });

  it('stops a service with API routes and no token source, unless told its API stays closed', async () => {
    const env = { ...pipeline.envFor(await freePort(), 'alerting'), API_TOKENS_FILE: '' };
    const run = spawnSync(process.execPath, [serviceEntry('alerting')], {
      env,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('API_ALLOW_NO_AUTH');

    const port = await freePort();
    const closed = startProcess('alerting-closed', process.execPath, [serviceEntry('alerting')], {
      env: { ...pipeline.envFor(port, 'alerting'), API_TOKENS_FILE: '', API_ALLOW_NO_AUTH: 'true' },
      logFile: join(root, 'alerting-closed.log'),
    });
    try {
      await waitForReady(closed, port);
      const res = await fetch(`http://127.0.0.1:${port}/v1/alerts`, {
        headers: pipeline.authHeaders('admin'),
      });
      expect(res.status).toBe(401);
    } finally {
      await closed.stop(8_000);
    }
  });
});

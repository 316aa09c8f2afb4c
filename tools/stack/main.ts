import { NATS_ADMIN_USER, SERVICE_NAMES, type ServiceName } from '@sup/contracts';
import {
  serviceEntry,
  startFerretDb,
  startNatsServer,
  startGateway,
  startProcess,
  waitForReady,
  type ManagedProcess,
  type NatsCredentials,
  type NatsUserCredentials,
} from '@sup/process';
import { connectJetStream } from '@sup/jetstream';
import { ConfigError, loadStreamSettings } from '@sup/service-kit';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ensureAdminToken } from './api-token';
import { demoVendorDir, ensureDemoFeed } from './demo-feed';
import { STACK_RELAY_ID, startEdge } from './edge';

/** What main() has started, in the order to stop it: services, then FerretDB, then NATS. */
const stops: (() => Promise<void>)[] = [];
async function stopAll(): Promise<void> {
  for (const stop of stops.splice(0)) await stop();
}

/**
 * `npm start`: the whole stack on one machine. Uses NATS_URL / MONGODB_URI when given, otherwise
 * runs a NATS server with JetStream and FerretDB (SQLite) with their state under DATA_DIR.
 */
async function main(): Promise<void> {
  const env = process.env;
  const dataDir = resolve(env.DATA_DIR || '.data');
  const apiPort = Number(env.API_PORT || 8080);
  const host = env.API_HOST || '127.0.0.1';
  if (!Number.isInteger(apiPort) || apiPort < 1 || apiPort > 65535)
    fail(`API_PORT must be a port number, got ${env.API_PORT}`);
  // The demo edge: one relay and this many simulated agents (0: neither).
  const simAgents = Number(env.STACK_AGENTS ?? 5);
  if (!Number.isInteger(simAgents) || simAgents < 0 || simAgents > 10_000)
    fail(`STACK_AGENTS must be a whole number from 0 to 10000, got ${env.STACK_AGENTS}`);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const say = (msg: string) => process.stdout.write(`[stack] ${msg}\n`);

  let feedUrl = env.FEED_URL;
  let trustAnchors = env.TRUST_ANCHORS;
  if (!feedUrl) {
    const vendorDir = demoVendorDir(dataDir, env);
    const demo = await ensureDemoFeed(dataDir, vendorDir);
    feedUrl = demo.feedUrl;
    trustAnchors = trustAnchors || demo.trustAnchors;
    say(
      `no FEED_URL: serving the demo feed ${feedUrl} (one forged and one corrupted update included)`,
    );
    say(`the demo vendor's CA and signing keys are in ${vendorDir}, outside DATA_DIR`);
  }
  if (!trustAnchors)
    fail('TRUST_ANCHORS must name a PEM bundle of trusted roots when FEED_URL is set');

  let natsUrl = env.NATS_URL;
  // Our own NATS has a user per service; an operator's (NATS_URL) has its own auth, and the
  // services then use whatever NATS_USER/NATS_PASSWORD or NATS_CREDS the environment gives.
  let natsUsers: NatsCredentials | undefined;
  if (!natsUrl) {
    const port = (await portFree(4222)) ? 4222 : undefined;
    const authDir = join(dataDir, 'nats-auth');
    const nats = await startNatsServer({
      storeDir: join(dataDir, 'nats'),
      logFile: join(dataDir, 'logs/nats.log'),
      authDir,
      relayIds: [STACK_RELAY_ID],
      ...(port ? { port } : {}),
    });
    stops.unshift(nats.stop);
    natsUrl = nats.url;
    natsUsers = nats.credentials;
    await convergeStreams(natsUrl, natsUsers?.[NATS_ADMIN_USER], env);
    say(`NATS JetStream on ${natsUrl} (state in ${join(dataDir, 'nats')})`);
    say(
      `NATS users: one per service; the operators' user '${NATS_ADMIN_USER}' (e.g. for npm run dlq) is in ${join(authDir, 'nats-users.json')}`,
    );
  }
  let mongoUri = env.MONGODB_URI;
  if (!mongoUri) {
    const port = (await portFree(27017)) ? 27017 : undefined;
    const mongo = await startFerretDb({
      dataDir: join(dataDir, 'ferretdb'),
      logFile: join(dataDir, 'logs/ferretdb.log'),
      ...(port ? { port } : {}),
    });
    stops.unshift(mongo.stop);
    mongoUri = mongo.uri;
    say(`FerretDB (MongoDB wire protocol) on ${mongoUri} (state in ${join(dataDir, 'ferretdb')})`);
  }

  // Every API call needs a token: the stack's admin token, unless the operator brings a token file.
  const admin = env.API_TOKENS_FILE ? undefined : ensureAdminToken(dataDir);
  const tokensFile = env.API_TOKENS_FILE || admin?.tokensFile;
  if (admin?.created) say(`made an admin API token in ${admin.tokenPath} (mode 0600)`);
  if (admin && !admin.listed)
    say(`${admin.tokensFile} no longer lists the token in ${admin.tokenPath}: it will get 401`);

  const ports = new Map<ServiceName, number>(SERVICE_NAMES.map((s, i) => [s, apiPort + 1 + i]));
  const services: ManagedProcess[] = [];
  stops.unshift(() => Promise.all(services.map((s) => s.stop(25_000))).then(() => undefined));
  for (const name of SERVICE_NAMES) {
    services.push(
      startProcess(name, process.execPath, [serviceEntry(name)], {
        env: {
          ...env,
          NATS_URL: natsUrl,
          ...natsUserEnv(natsUsers, name),
          MONGODB_URI: mongoUri,
          FEED_URL: feedUrl,
          TRUST_ANCHORS: trustAnchors,
          DATA_DIR: dataDir,
          HTTP_PORT: String(ports.get(name)),
          HTTP_HOST: '127.0.0.1',
          API_TOKENS_FILE: tokensFile,
          // What agents are told to fall back to: this gateway, unless the operator says otherwise.
          CONTROL_PLANE_PUBLIC_URL: env.CONTROL_PLANE_PUBLIC_URL || `http://${host}:${apiPort}/v1`,
        },
        logFile: join(dataDir, 'logs', `${name}.log`),
      }),
    );
  }
  const gateway = await startGateway(apiPort, host, ports);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping services (in-flight work drains first)…`);
    gateway.close();
    await stopAll();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  for (const s of services) {
    s.child.once('exit', (code) => {
      if (!stopping)
        say(`${s.name} exited (${code}); see ${join(dataDir, 'logs', `${s.name}.log`)}`);
    });
  }

  await Promise.all(
    services.map((s) => waitForReady(s, ports.get(s.name as ServiceName) ?? 0, 90_000)),
  );
  const base = `http://${host}:${apiPort}/v1`;
  say(`all services ready; logs in ${join(dataDir, 'logs')}`);
  say(`API: ${base}  (OpenAPI: ${base}/openapi.json)`);
  if (!admin) {
    say(`API tokens from ${tokensFile}; no sync started (this stack holds none of those tokens)`);
    return;
  }
  const res = await fetch(`${base}/feeds/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
    body: '{}',
  });
  const sync = (await res.json()) as { id?: string; message?: string };
  const auth = `-H "Authorization: Bearer $(cat ${admin.tokenPath})"`;
  if (!res.ok) say(`first sync refused (${res.status}): ${sync.message ?? ''}`);
  else say(`first sync queued: curl ${auth} ${base}/feeds/syncs/${sync.id ?? '?'}`);
  say(`then: curl ${auth} ${base}/updates`);
  if (simAgents > 0 && natsUsers && trustAnchors) {
    const edge = await startEdge({
      dataDir,
      apiBase: base,
      natsUrl,
      relayNats: natsUsers[`relay-${STACK_RELAY_ID}`],
      trustAnchors,
      tokensFile: admin.tokensFile,
      relayPort: apiPort + 1 + SERVICE_NAMES.length,
      agents: simAgents,
      say,
    });
    stops.unshift(() => edge.stop());
    edge.relay.child.once('exit', (code) => {
      if (!stopping) say(`relay exited (${code}); see ${join(dataDir, 'logs', 'relay.log')}`);
    });
    say(`relays and what they hold: curl ${auth} ${base}/relays  (and ${base}/relays/summary)`);
    say(`the agents' builds: curl ${auth} "${base}/fleet?role=agent"`);
    say(
      `move them with a rollout of the demo agent build (its id from ${base}/updates?component=agent): curl ${auth} -H 'content-type: application/json' -d '{"updateId":"upd_…","target":{"group":"default","platform":"linux-x86_64"},"waves":[20,100],"successThreshold":80,"errorThreshold":20}' ${base}/rollouts; then curl ${auth} ${base}/rollouts`,
    );
  } else if (simAgents > 0) {
    say('no relay or simulated agents: they need the NATS server this stack runs (no NATS_URL)');
  }
  say('Ctrl-C stops everything');
}

/**
 * The streams as this environment's JS_* settings want them, changed as the NATS admin before any
 * service starts: the services' own users may create a missing stream but never change one.
 */
async function convergeStreams(
  servers: string,
  admin: NatsUserCredentials | undefined,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  let settings: ReturnType<typeof loadStreamSettings>;
  try {
    settings = loadStreamSettings(env);
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
  }
  const connection = await connectJetStream({
    servers,
    service: 'stack',
    auth: admin,
    replicas: settings.replicas,
    duplicateWindowMs: settings.duplicateWindowMs,
    streamLimits: settings.limits,
  });
  await connection.close();
}

/** The service's own NATS user, when this stack runs NATS itself. */
function natsUserEnv(users: NatsCredentials | undefined, service: ServiceName): NodeJS.ProcessEnv {
  const own = users?.[service];
  return own ? { NATS_USER: own.user, NATS_PASSWORD: own.password, NATS_CREDS: '' } : {};
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

function fail(message: string): never {
  process.stderr.write(`[stack] ${message}\n`);
  process.exit(1);
}

main().catch(async (error: unknown) => {
  // Stop what did start, in order, rather than leave it to the SIGKILL at exit.
  await stopAll();
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
});

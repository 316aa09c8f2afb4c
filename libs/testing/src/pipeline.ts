import {
  HUMAN_ROLES,
  NATS_ADMIN_USER,
  serviceForPath,
  serviceInboxPrefix,
  SERVICE_NAMES,
  type NatsUserName,
  type Role,
  type ServiceName,
} from '@sup/contracts';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  repoRoot,
  serviceEntry,
  startAll,
  startProcess,
  useMongo,
  useNats,
  waitForReady,
  type ManagedProcess,
  type NatsCredentials,
} from '@sup/process';

export interface PipelineOptions {
  trustAnchors: string;
  feedUrl?: string;
  services?: readonly ServiceName[];
  /** Extra environment for every service (e.g. JS_ACK_WAIT_MS). */
  env?: Record<string, string>;
  /** Processes per service (default 1): replicas share their durable consumers and state. */
  replicas?: number;
  /**
   * Relays whose NATS users exist from the start; `startRelay` adds others by reloading
   * nats-server, so this only saves that reload.
   */
  relays?: readonly { id: string }[];
}

export interface StartRelayOptions {
  relayId: string;
  group: string;
  cacheMaxBytes?: number;
  /** Its own trust anchors (default: the pipeline's), e.g. another CA to see it refuse. */
  trustAnchors?: string;
  /** Extra environment (over the defaults below), kept for restarts. */
  env?: Record<string, string>;
}

/** A relay process of the pipeline (services/relay), with its own port, cache and credentials. */
export interface RelayHandle {
  readonly relayId: string;
  readonly group: string;
  /** Its API base as agents use it: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  readonly port: number;
  readonly cacheDir: string;
  /** Its `relay` bearer token (named after the relay id). */
  readonly token: string;
  readonly logFile: string;
  process(): ManagedProcess;
  stop(): Promise<void>;
  /** Default SIGKILL: dies mid-download, as on a power cut. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and cache; waits until ready. */
  restart(): Promise<void>;
}

/** `agent`, or a relay's own user `relay-<id>` (see libs/contracts nats-permissions). */
export type RelayOrAgentUser = 'agent' | `relay-${string}`;

const relayEntry = (): string => join(repoRoot(), 'dist/services/relay/main.js');

/** Who a test calls the API as: a role's token, no token at all, or a raw (e.g. bad) token. */
export type Caller = Role | 'anonymous' | { token: string };

export interface ApiOptions {
  /** Default `admin`: suites about the pipeline act as its operator; the role matrix names others. */
  as?: Caller;
  headers?: Record<string, string>;
}

/** `checksum` for the first replica, `checksum#1` for the second, and so on. */
const instanceKey = (name: ServiceName, replica: number): string =>
  replica === 0 ? name : `${name}#${replica}`;

/**
 * The pipeline as operators run it: a real NATS JetStream, a real MongoDB-wire server and each
 * service as its own Node process built from dist/. Used by the end-to-end suites and the benchmark.
 */
export class Pipeline {
  /** By instance: the service name for replica 0, `<name>#<n>` for replica n. */
  readonly processes = new Map<string, ManagedProcess>();
  readonly ports = new Map<string, number>();
  /** Plain tokens by role; services only ever see their SHA-256 (API_TOKENS_FILE). */
  readonly tokens = new Map<Role, string>();
  readonly tokensFile: string;
  /** Relays started by `startRelay`, by relay id. */
  readonly relays = new Map<string, RelayHandle>();
  private readonly tokenEntries: { name: string; role: string; sha256: string }[] = [];

  private constructor(
    readonly natsUrl: string,
    readonly mongoUri: string,
    readonly workDir: string,
    /** Read when a service (re)starts: tests may change `env` between restarts. */
    readonly options: PipelineOptions,
    private readonly stops: (() => Promise<void>)[],
    /** Per-service NATS users; undefined on an external NATS_URL (its operator's auth applies). */
    public natsCredentials?: NatsCredentials,
    private readonly addRelayUsers?: (ids: readonly string[]) => Promise<NatsCredentials>,
  ) {
    this.tokensFile = join(workDir, 'api-tokens.json');
    for (const role of [...HUMAN_ROLES, 'agent', 'relay'] as Role[])
      this.tokens.set(role, this.issueToken(`test-${role}`, role));
    this.writeTokens();
  }

  /** A new token in the token file (services reload it when it changes); returns the plain token. */
  private issueToken(name: string, role: Role): string {
    const token = `sup_${role}_${randomBytes(24).toString('base64url')}`;
    const sha256 = createHash('sha256').update(token).digest('hex');
    this.tokenEntries.push({ name, role, sha256 });
    return token;
  }

  /** Replaced whole (temporary file, rename), so a service never reads half of it. */
  private writeTokens(): void {
    const tmp = `${this.tokensFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ tokens: this.tokenEntries }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.tokensFile);
  }

  /** The agents' token (role agent), for the agent simulator and agent calls to relays. */
  agentToken(): string {
    const token = this.tokens.get('agent');
    if (!token) throw new Error('no agent token');
    return token;
  }

  /** The Authorization header of a caller (none for `anonymous`). */
  authHeaders(as: Caller = 'admin'): Record<string, string> {
    if (as === 'anonymous') return {};
    const token = typeof as === 'string' ? this.tokens.get(as) : as.token;
    if (!token) throw new Error(`no test token for role ${typeof as === 'string' ? as : 'raw'}`);
    return { authorization: `Bearer ${token}` };
  }

  static async start(options: PipelineOptions): Promise<Pipeline> {
    for (const name of SERVICE_NAMES) {
      if (!existsSync(serviceEntry(name)))
        throw new Error(`${serviceEntry(name)} is missing: run \`npm run build\` first`);
    }
    const workDir = mkdtempSync(join(tmpdir(), 'sup-pipeline-'));
    const relayIds = (options.relays ?? []).map((r) => r.id);
    const [nats, mongo] = await startAll([useNats({ auth: true, relayIds }), useMongo()]);
    const pipeline = new Pipeline(
      nats.url,
      mongo.uri,
      workDir,
      options,
      [nats.stop, mongo.stop],
      nats.credentials,
      nats.addRelayUsers,
    );
    const replicas = options.replicas ?? 1;
    const started = await Promise.allSettled(
      (options.services ?? SERVICE_NAMES).flatMap((s) =>
        Array.from({ length: replicas }, (_, r) => pipeline.startService(s, r)),
      ),
    );
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      // The caller never gets the pipeline, so it could not stop what did start.
      await pipeline.stop();
      throw failed.reason;
    }
    return pipeline;
  }

  /** Environment of one service; `MONGODB_DB_PREFIX` is unique per pipeline so runs never share data. */
  private prefix = `t${randomBytes(4).toString('hex')}`;

  envFor(port: number, service?: ServiceName): NodeJS.ProcessEnv {
    const nats = service && this.natsCredentials?.[service];
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      NATS_URL: this.natsUrl,
      // Each service as its own NATS user, as `npm start` runs them.
      ...(nats ? { NATS_USER: nats.user, NATS_PASSWORD: nats.password } : {}),
      MONGODB_URI: this.mongoUri,
      MONGODB_DB_PREFIX: this.prefix,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: join(this.workDir, 'data'),
      TRUST_ANCHORS: this.options.trustAnchors,
      API_TOKENS_FILE: this.tokensFile,
      LOG_LEVEL: 'info',
      JS_BACKOFF_MS: '200,500,1000,2000',
      JS_ACK_WAIT_MS: '5000',
      SHUTDOWN_GRACE_MS: '5000',
      ...(this.options.feedUrl ? { FEED_URL: this.options.feedUrl } : {}),
      ...this.options.env,
    };
  }

  /** Starts (or restarts) one replica of a service on its port, and waits until it is ready. */
  async startService(name: ServiceName, replica = 0): Promise<void> {
    const key = instanceKey(name, replica);
    const port = this.ports.get(key) ?? (await freePort());
    this.ports.set(key, port);
    mkdirSync(join(this.workDir, 'logs'), { recursive: true });
    const proc = startProcess(key, process.execPath, [serviceEntry(name)], {
      env: this.envFor(port, name),
      logFile: this.logFile(name, replica),
    });
    this.processes.set(key, proc);
    await waitForReady(proc, port);
  }

  /**
   * Starts a relay (dist/services/relay) as its own process: a `relay` token named after its id
   * (added to the token file, and awaited until the control plane accepts it), its NATS user
   * `relay-<id>` (nats-server reloaded if it did not have it), a fresh cache directory, and
   * CONTROL_PLANE_URL at distribution. Stopped with the pipeline.
   */
  async startRelay(options: StartRelayOptions): Promise<RelayHandle> {
    const { relayId, group } = options;
    if (this.relays.has(relayId)) throw new Error(`relay ${relayId} already started`);
    if (!existsSync(relayEntry()))
      throw new Error(`${relayEntry()} is missing: run \`npm run build\` first`);
    if (this.natsCredentials && !this.natsCredentials[`relay-${relayId}`]) {
      if (!this.addRelayUsers) throw new Error('this NATS server cannot be given relay users');
      this.natsCredentials = await this.addRelayUsers([relayId]);
    }
    const nats = this.natsCredentials?.[`relay-${relayId}`];
    const token = this.issueToken(relayId, 'relay');
    this.writeTokens();
    const controlPlane = `http://127.0.0.1:${this.ports.get('distribution')}`;
    // The services reload the token file after a short quiet time: wait until it is in force.
    await eventually(
      async () => {
        const res = await fetch(`${controlPlane}/v1/relays/${relayId}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.body?.cancel();
        return res.status === 401 ? undefined : true;
      },
      `the relay token of ${relayId} to be accepted`,
      15_000,
    );
    const port = await freePort();
    const cacheDir = join(this.workDir, 'relays', relayId, 'cache');
    mkdirSync(cacheDir, { recursive: true });
    mkdirSync(join(this.workDir, 'logs'), { recursive: true });
    const logFile = join(this.workDir, 'logs', `relay-${relayId}.log`);
    const env = (): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      RELAY_ID: relayId,
      RELAY_GROUP: group,
      NATS_URL: this.natsUrl,
      ...(nats ? { NATS_USER: nats.user, NATS_PASSWORD: nats.password } : {}),
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      RELAY_CACHE_DIR: cacheDir,
      ...(options.cacheMaxBytes ? { RELAY_CACHE_MAX_BYTES: String(options.cacheMaxBytes) } : {}),
      TRUST_ANCHORS: options.trustAnchors ?? this.options.trustAnchors,
      CONTROL_PLANE_URL: `${controlPlane}/v1`,
      RELAY_TOKEN: token,
      API_TOKENS_FILE: this.tokensFile,
      RELAY_REPORT_INTERVAL_MS: '2000',
      LOG_LEVEL: 'info',
      JS_BACKOFF_MS: '200,500,1000,2000',
      JS_ACK_WAIT_MS: '5000',
      SHUTDOWN_GRACE_MS: '5000',
      ...options.env,
    });
    let proc: ManagedProcess | undefined;
    const start = async (): Promise<void> => {
      proc = startProcess(`relay-${relayId}`, process.execPath, [relayEntry()], {
        env: env(),
        logFile,
      });
      this.processes.set(`relay-${relayId}`, proc);
      await waitForReady(proc, port);
    };
    const handle: RelayHandle = {
      relayId,
      group,
      url: `http://127.0.0.1:${port}/v1`,
      port,
      cacheDir,
      token,
      logFile,
      process: () => {
        if (!proc) throw new Error(`relay ${relayId} never started`);
        return proc;
      },
      stop: async () => proc?.stop(8_000),
      kill: async (signal = 'SIGKILL') => proc?.kill(signal),
      restart: async () => {
        await proc?.stop(8_000);
        await start();
      },
    };
    this.relays.set(relayId, handle);
    await start();
    return handle;
  }

  /** SIGKILL: the replica dies mid-work, as on a node failure. */
  async kill(name: ServiceName, replica = 0): Promise<void> {
    await this.processes.get(instanceKey(name, replica))?.kill('SIGKILL');
  }

  async stopService(name: ServiceName, replica = 0): Promise<void> {
    await this.processes.get(instanceKey(name, replica))?.stop();
  }

  /** Calls the operator API by path, routed to the owning service as the ingress would. */
  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: ApiOptions = {},
  ): Promise<{ status: number; body: T }> {
    const service = serviceForPath(path);
    if (!service) throw new Error(`no service owns ${path}`);
    const headers: Record<string, string> = { ...this.authHeaders(options.as) };
    const init: RequestInit = { method, headers };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, options.headers);
    // The first replica that is alive answers, as a load balancer would route around a dead one.
    const instance =
      [...this.processes.entries()].find(
        ([key, p]) =>
          (key === service || key.startsWith(`${service}#`)) &&
          p.child.exitCode === null &&
          p.child.signalCode === null,
      )?.[0] ?? service;
    const res = await fetch(`http://127.0.0.1:${this.ports.get(instance)}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /**
   * Connection options of a NATS user (default `admin`, which may do anything): spread them into
   * `connect({ servers: pipeline.natsUrl, ... })`. Empty on an external server, whose auth is its own.
   */
  natsAuth(as: NatsUserName | RelayOrAgentUser = NATS_ADMIN_USER): {
    user?: string;
    pass?: string;
  } {
    const c = this.natsCredentials?.[as];
    return c ? { user: c.user, pass: c.password } : {};
  }

  /** A raw NATS connection as a user (default `admin`); the caller closes it. */
  async connectNats(
    as: NatsUserName | RelayOrAgentUser = NATS_ADMIN_USER,
  ): Promise<NatsConnection> {
    // A service's user may only read replies in its own inboxes, as the service itself does.
    const inboxPrefix = as === NATS_ADMIN_USER ? undefined : serviceInboxPrefix(as);
    return (await connect({
      servers: this.natsUrl,
      ...this.natsAuth(as),
      ...(inboxPrefix ? { inboxPrefix } : {}),
    })) as NatsConnection;
  }

  logFile(name: ServiceName, replica = 0): string {
    return join(this.workDir, 'logs', `${instanceKey(name, replica)}.log`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop(8_000)));
    for (const stop of this.stops) await stop();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value (not undefined); the timeout only guards against hangs. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  const cause = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out waiting for ${what}${cause}`);
}

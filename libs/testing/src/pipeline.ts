import { serviceForPath, SERVICE_NAMES, type ServiceName } from '@sup/contracts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  serviceEntry,
  startAll,
  startProcess,
  useMongo,
  useNats,
  waitForReady,
  type ManagedProcess,
} from '@sup/process';

export interface PipelineOptions {
  trustAnchors: string;
  feedUrl?: string;
  services?: readonly ServiceName[];
  /** Extra environment for every service (e.g. JS_ACK_WAIT_MS). */
  env?: Record<string, string>;
}

/**
 * The pipeline as operators run it: a real NATS JetStream, a real MongoDB-wire server and each
 * service as its own Node process built from dist/. Used by the end-to-end suites and the benchmark.
 */
export class Pipeline {
  readonly processes = new Map<ServiceName, ManagedProcess>();
  readonly ports = new Map<ServiceName, number>();
  private constructor(
    readonly natsUrl: string,
    readonly mongoUri: string,
    readonly workDir: string,
    /** Read when a service (re)starts: tests may change `env` between restarts. */
    readonly options: PipelineOptions,
    private readonly stops: (() => Promise<void>)[],
  ) {}

  static async start(options: PipelineOptions): Promise<Pipeline> {
    for (const name of SERVICE_NAMES) {
      if (!existsSync(serviceEntry(name)))
        throw new Error(`${serviceEntry(name)} is missing: run \`npm run build\` first`);
    }
    const workDir = mkdtempSync(join(tmpdir(), 'sup-pipeline-'));
    const [nats, mongo] = await startAll([useNats(), useMongo()]);
    const pipeline = new Pipeline(nats.url, mongo.uri, workDir, options, [nats.stop, mongo.stop]);
    const started = await Promise.allSettled(
      (options.services ?? SERVICE_NAMES).map((s) => pipeline.startService(s)),
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

  envFor(port: number): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      NATS_URL: this.natsUrl,
      MONGODB_URI: this.mongoUri,
      MONGODB_DB_PREFIX: this.prefix,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: join(this.workDir, 'data'),
      TRUST_ANCHORS: this.options.trustAnchors,
      LOG_LEVEL: 'info',
      JS_BACKOFF_MS: '200,500,1000,2000',
      JS_ACK_WAIT_MS: '5000',
      SHUTDOWN_GRACE_MS: '5000',
      ...(this.options.feedUrl ? { FEED_URL: this.options.feedUrl } : {}),
      ...this.options.env,
    };
  }

  async startService(name: ServiceName): Promise<void> {
    const port = this.ports.get(name) ?? (await freePort());
    this.ports.set(name, port);
    mkdirSync(join(this.workDir, 'logs'), { recursive: true });
    const proc = startProcess(name, process.execPath, [serviceEntry(name)], {
      env: this.envFor(port),
      logFile: join(this.workDir, 'logs', `${name}.log`),
    });
    this.processes.set(name, proc);
    await waitForReady(proc, port);
  }

  async kill(name: ServiceName): Promise<void> {
    await this.processes.get(name)?.kill('SIGKILL');
  }

  async stopService(name: ServiceName): Promise<void> {
    await this.processes.get(name)?.stop();
  }

  /** Calls the operator API by path, routed to the owning service as the ingress would. */
  async api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const service = serviceForPath(path);
    if (!service) throw new Error(`no service owns ${path}`);
    const init: RequestInit = { method };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await fetch(`http://127.0.0.1:${this.ports.get(service)}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  logFile(name: ServiceName): string {
    return join(this.workDir, 'logs', `${name}.log`);
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

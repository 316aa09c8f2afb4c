import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process';
import { ensureNatsAuth, type NatsCredentials } from './nats-auth';
import { freePort, waitForPort } from './readiness';

export interface RunningNats {
  url: string;
  /** Undefined when an external server (NATS_URL) is used. */
  process?: ManagedProcess;
  /**
   * Users and passwords when the server was started with per-service users (`authDir`); absent
   * for a server without authorization, or an external one whose auth is its operator's.
   */
  credentials?: NatsCredentials;
  stop: () => Promise<void>;
}

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'];

export function natsServerBinary(): string {
  const found = [process.env.NATS_SERVER_BIN, ...CANDIDATES].find((p) => p && existsSync(p));
  if (!found) {
    throw new Error(
      `nats-server not found (looked in ${CANDIDATES.join(', ')}); install it (apt-get install nats-server) or set NATS_SERVER_BIN`,
    );
  }
  return found;
}

export interface StartNatsOptions {
  storeDir?: string;
  logFile?: string;
  port?: number;
  timeoutMs?: number;
  /**
   * Run with one user per service and an `admin` (libs/contracts nats-permissions): the
   * configuration and passwords are generated, or kept, in this directory (see ensureNatsAuth).
   */
  authDir?: string;
}

/** Starts a private nats-server with JetStream on a free port, its store in a fresh temp dir. */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<RunningNats> {
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sup-nats-'));
  const auth = options.authDir ? ensureNatsAuth(options.authDir) : undefined;
  const proc = startProcess(
    'nats-server',
    natsServerBinary(),
    [
      ...(auth ? ['-c', auth.configFile] : []),
      ...['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
    ],
    { logFile: options.logFile },
  );
  await waitForPort(proc, port, options.timeoutMs ?? 15_000);
  return {
    url: `nats://127.0.0.1:${port}`,
    process: proc,
    ...(auth ? { credentials: auth.credentials } : {}),
    stop: () => proc.stop(),
  };
}

import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
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
  /**
   * Gives relays that have no user yet their `relay-<id>` user: rewrites the configuration and
   * reloads the running server (SIGHUP), then waits until the new users can connect. Only on a
   * private server started with `authDir`; returns the updated credentials.
   */
  addRelayUsers?: (relayIds: readonly string[]) => Promise<NatsCredentials>;
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
  /** With `authDir`: relays that get a user `relay-<id>` from the start. */
  relayIds?: readonly string[];
}

/** Starts a private nats-server with JetStream on a free port, its store in a fresh temp dir. */
export async function startNatsServer(options: StartNatsOptions = {}): Promise<RunningNats> {
  const port = options.port ?? (await freePort());
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'sup-nats-'));
  const authDir = options.authDir;
  let relayIds = [...(options.relayIds ?? [])];
  const auth = authDir ? ensureNatsAuth(authDir, { relayIds }) : undefined;
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
  const url = `nats://127.0.0.1:${port}`;
  const running: RunningNats = {
    url,
    process: proc,
    ...(auth ? { credentials: auth.credentials } : {}),
    stop: () => proc.stop(),
  };
  if (auth && authDir) {
    running.addRelayUsers = async (ids) => {
      const added = ids.filter((id) => !relayIds.includes(id));
      if (added.length === 0) return running.credentials!;
      relayIds = [...relayIds, ...added];
      const next = ensureNatsAuth(authDir, { relayIds });
      running.credentials = next.credentials;
      proc.child.kill('SIGHUP');
      for (const id of added) await waitForUser(url, next.credentials, `relay-${id}`);
      return next.credentials;
    };
  }
  return running;
}

/** Until a reload has taken effect: the user connects (a reload is applied asynchronously). */
async function waitForUser(url: string, credentials: NatsCredentials, user: string): Promise<void> {
  const pass = credentials[user]?.password;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const nc = (await connect({
        servers: url,
        user,
        pass,
        reconnect: false,
        timeout: 1_000,
      })) as NatsConnection;
      await nc.close();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`nats-server did not accept user ${user}`, { cause: error });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

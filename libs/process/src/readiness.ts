import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import type { ManagedProcess } from './managed-process';

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('could not allocate a port');
  return address.port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it succeeds. Fails early when the process exits, and on any failure stops
 * the process before rethrowing: one that never got ready is of use to nobody, and the caller,
 * holding only the error, could not stop it.
 */
async function untilReady(
  proc: ManagedProcess,
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (!proc.running())
        throw new Error(`${proc.name} ${proc.status()} before it could ${what}; ${proc.output()}`);
      if (await probe()) return;
      if (Date.now() > deadline) {
        throw new Error(`${proc.name} did not ${what} within ${timeoutMs} ms; ${proc.output()}`);
      }
      await sleep(100);
    }
  } catch (error) {
    await proc.stop(2_000);
    throw error;
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true)).once('error', () => done(false));
    socket.connect(port, '127.0.0.1');
  });

/** Waits until `proc` accepts TCP connections on `port` (stopping it if it never does). */
export function waitForPort(proc: ManagedProcess, port: number, timeoutMs = 30_000): Promise<void> {
  return untilReady(proc, `open port ${port}`, timeoutMs, () => portOpen(port));
}

/**
 * Waits until a service process answers 200 on `/healthz/ready` (stopping it if it never does).
 */
export function waitForReady(
  proc: ManagedProcess,
  port: number,
  timeoutMs = 60_000,
): Promise<void> {
  return untilReady(proc, `answer /healthz/ready on port ${port}`, timeoutMs, () =>
    fetch(`http://127.0.0.1:${port}/healthz/ready`, { signal: AbortSignal.timeout(5_000) }).then(
      (res) => res.ok,
      () => false,
    ),
  );
}

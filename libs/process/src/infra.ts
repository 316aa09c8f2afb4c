import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb, type RunningMongo } from './ferretdb';
import { startNatsServer, type RunningNats } from './nats-server';

/**
 * Real NATS: the one in NATS_URL, or a private server started for the caller. With `auth`, the
 * private server has one user per service (`credentials`); an external server cannot be given
 * users, so its result has none and callers that need them say so and skip.
 */
export async function useNats(
  options: { auth?: boolean; relayIds?: readonly string[] } = {},
): Promise<RunningNats> {
  const url = process.env.NATS_URL;
  if (url) return { url, stop: () => Promise.resolve() };
  const authDir = options.auth ? mkdtempSync(join(tmpdir(), 'sup-nats-auth-')) : undefined;
  return startNatsServer(authDir ? { authDir, relayIds: options.relayIds ?? [] } : {});
}

/** Real MongoDB wire protocol: the one in MONGODB_URI, or a private FerretDB started for the caller. */
export async function useMongo(): Promise<RunningMongo> {
  const uri = process.env.MONGODB_URI;
  if (uri) return { uri, stop: () => Promise.resolve() };
  return startFerretDb();
}

/**
 * Starts things in parallel. If any fails, stops those that did start and rethrows the first
 * failure: the caller gets no handle to stop them with.
 */
export async function startAll<T extends readonly Promise<{ stop: () => Promise<void> }>[]>(
  starts: readonly [...T],
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return started as { -readonly [K in keyof T]: Awaited<T[K]> };
  await Promise.all(started.map((s) => s.stop()));
  throw failed.reason;
}

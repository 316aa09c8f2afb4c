import { createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Why a download stopped: `transient` is worth another attempt, the others are not. */
export type DownloadFailure = 'transient' | 'not-offered' | 'size-mismatch';

export class DownloadError extends Error {
  constructor(
    readonly failure: DownloadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

export interface ResumableDownload {
  url: string;
  headers?: Record<string, string>;
  /** Where the bytes accumulate; what is there is kept and continued from (Range). */
  partFile: string;
  /** The size the control plane published: more bytes are refused, fewer are resumed. */
  expectedSize: number;
  /** The whole attempt's limit (a large file on a slow link may take long). */
  timeoutMs: number;
  /**
   * A stalled transfer (no byte for this long) is cut at once rather than at `timeoutMs`: the
   * consumer waits for its batch, so one silent connection would hold every later update.
   */
  idleTimeoutMs?: number;
}

/** Default stall limit: far above any pause of a live transfer, far below the whole limit. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface DownloadOutcome {
  /** Bytes already on disk before this attempt (0: it started from the beginning). */
  resumedFrom: number;
  /** Bytes fetched by this attempt. */
  fetched: number;
}

const sizeOf = async (path: string): Promise<number> =>
  stat(path).then(
    (s) => s.size,
    () => 0,
  );

/**
 * Fetches `url` into `partFile`, continuing from the bytes a killed or cut attempt left there
 * (`Range: bytes=<size>-`). A server that ignores the range answers 200 and the file starts over.
 * The bytes are flushed to disk before it returns, so a crash after it never loses them; whether
 * they are the right bytes is the caller's check (the whole file is hashed).
 */
export async function downloadResumable(d: ResumableDownload): Promise<DownloadOutcome> {
  let have = await sizeOf(d.partFile);
  if (have > d.expectedSize) {
    await rm(d.partFile, { force: true });
    have = 0;
  }
  if (have === d.expectedSize && have > 0) return { resumedFrom: have, fetched: 0 };
  const idleMs = d.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const stalled = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const touch = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => stalled.abort(new Error(`no byte for ${idleMs} ms (stalled)`)), idleMs);
  };
  touch();
  try {
    return await transfer(
      d,
      have,
      AbortSignal.any([AbortSignal.timeout(d.timeoutMs), stalled.signal]),
      touch,
    );
  } finally {
    clearTimeout(idle);
  }
}

async function transfer(
  d: ResumableDownload,
  have: number,
  signal: AbortSignal,
  touch: () => void,
): Promise<DownloadOutcome> {
  let res: Response;
  try {
    res = await fetch(d.url, {
      headers: { ...d.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
      signal,
    });
  } catch (error) {
    throw new DownloadError('transient', `GET ${d.url}: ${String(error)}`, { cause: error });
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    throw new DownloadError('not-offered', `GET ${d.url}: ${res.status} (not offered)`);
  }
  if (res.status === 416) {
    // The part is not a prefix the server can continue (the file changed): start over.
    await res.body?.cancel();
    await rm(d.partFile, { force: true });
    throw new DownloadError('transient', `GET ${d.url}: 416 for bytes=${have}-, starting over`);
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new DownloadError('transient', `GET ${d.url}: ${res.status}`);
  }
  const resumedFrom = res.status === 206 ? have : 0;
  let fetched = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      touch();
      fetched += chunk.length;
      if (resumedFrom + fetched > d.expectedSize)
        done(new DownloadError('size-mismatch', `more than the ${d.expectedSize} bytes published`));
      else done(null, chunk);
    },
  });
  try {
    if (!res.body) throw new Error('no body');
    await pipeline(
      Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
      limit,
      createWriteStream(d.partFile, { flags: resumedFrom > 0 ? 'a' : 'w' }),
    );
  } catch (error) {
    if (error instanceof DownloadError) {
      await rm(d.partFile, { force: true });
      throw error;
    }
    // A cut connection: what arrived stays for the next attempt.
    throw new DownloadError('transient', `GET ${d.url} broke off: ${String(error)}`, {
      cause: error,
    });
  } finally {
    await flush(d.partFile);
  }
  if (resumedFrom + fetched !== d.expectedSize)
    throw new DownloadError(
      'transient',
      `GET ${d.url} ended at ${resumedFrom + fetched} of ${d.expectedSize} bytes`,
    );
  return { resumedFrom, fetched };
}

async function flush(path: string): Promise<void> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ArtifactTooLargeError, type ArtifactSource } from './artifact-store';

/** Checks a caller's `maxBytes` and turns "no limit" into Infinity. */
export function resolveMaxBytes(maxBytes: number | undefined): number {
  if (maxBytes === undefined) return Number.POSITIVE_INFINITY;
  if (typeof maxBytes !== 'number' || Number.isNaN(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative number, got ${String(maxBytes)}`);
  }
  return maxBytes;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk))
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`artifact source yielded a ${typeof chunk}, expected bytes`);
}

function asAsyncIterable(source: ArtifactSource): AsyncIterable<unknown> {
  if (typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function') {
    return source as AsyncIterable<unknown>;
  }
  // An old-style stream that is not async-iterable.
  return new Readable().wrap(source as NodeJS.ReadableStream);
}

/**
 * Reads `source` to the end, hashing and counting every byte and handing each chunk to `sink`
 * (awaited, so the sink sees chunks one at a time and can apply backpressure). Throws
 * ArtifactTooLargeError before passing on the chunk that crosses `maxBytes`; the source is then
 * closed (leaving a for-await loop destroys a stream).
 */
export async function ingest(
  source: ArtifactSource,
  maxBytes: number,
  sink: (chunk: Buffer) => Promise<void>,
): Promise<{ key: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const raw of asAsyncIterable(source)) {
    const chunk = toBuffer(raw);
    if (chunk.length === 0) continue;
    size += chunk.length;
    if (size > maxBytes) throw new ArtifactTooLargeError(maxBytes);
    hash.update(chunk);
    await sink(chunk);
  }
  return { key: hash.digest('hex'), size };
}

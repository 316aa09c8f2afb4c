/** Anything that yields the bytes of an artifact: a Node stream or any async iterable of Buffers. */
export type ByteSource = AsyncIterable<Buffer> | NodeJS.ReadableStream;

export interface PumpOptions {
  /** Fails with ContentTooLargeError as soon as more than this many bytes arrive. */
  maxBytes?: number;
  /** Called after each chunk with the running byte count. */
  onProgress?: (bytes: number) => void;
}

export class ContentTooLargeError extends Error {
  override readonly name = 'ContentTooLargeError';
  readonly code = 'content-too-large';

  constructor(
    readonly maxBytes: number,
    readonly bytesRead: number,
  ) {
    super(`content exceeds the limit of ${maxBytes} bytes (read at least ${bytesRead})`);
  }
}

/**
 * Feeds every chunk of `source` to `onChunk` without ever holding more than one chunk, so
 * multi-GiB artifacts hash in constant memory. Returns the total byte count.
 */
export async function pumpBytes(
  source: ByteSource,
  onChunk: (chunk: Buffer) => void,
  options: PumpOptions = {},
): Promise<number> {
  const { maxBytes, onProgress } = options;
  checkMaxBytes(maxBytes);
  let size = 0;
  // Leaving the loop by throwing calls the iterator's return(), which destroys Node streams.
  for await (const chunk of source as AsyncIterable<unknown>) {
    const bytes = toBuffer(chunk);
    size += bytes.length;
    if (maxBytes !== undefined && size > maxBytes) throw new ContentTooLargeError(maxBytes, size);
    onChunk(bytes);
    onProgress?.(size);
  }
  return size;
}

export function checkMaxBytes(maxBytes: number | undefined): void {
  if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  // A string chunk means someone called setEncoding(): the original bytes are already lost.
  throw new TypeError(
    `byte source yielded ${typeof chunk} instead of Buffer; do not set an encoding`,
  );
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pumpBytes, type ByteSource, type PumpOptions } from './byte-source';

export interface StreamHash {
  /** Lower-case hex. */
  sha256: string;
  size: number;
}

export type HashStreamOptions = PumpOptions;

/** SHA-256 and size of a stream, in constant memory. Throws ContentTooLargeError past `maxBytes`. */
export async function hashStream(
  source: ByteSource,
  options: HashStreamOptions = {},
): Promise<StreamHash> {
  const hash = createHash('sha256');
  const size = await pumpBytes(source, (chunk) => hash.update(chunk), options);
  return { sha256: hash.digest('hex'), size };
}

// 1 MiB reads: the 64 KiB default costs noticeably more syscalls on GiB-sized artifacts.
const FILE_CHUNK_BYTES = 1024 * 1024;

export async function hashFile(path: string, options: HashStreamOptions = {}): Promise<StreamHash> {
  return hashStream(createReadStream(path, { highWaterMark: FILE_CHUNK_BYTES }), options);
}

import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { ByteLimit } from './byte-limit';
import { ImportRefusal, tooLarge } from './import-refusal';
import { HttpStatus } from '@nestjs/common';

/** One file of an uploaded bundle, in upload (or archive) order. */
export interface BundleFile {
  /** The path the file claims in the index (multipart field name, archive entry name). */
  name: string;
  stream: Readable;
  /** Size the container declares before any byte is read (tar header, zip directory). */
  declaredSize?: number;
}

/** The files of one bundle, read one after the other: the next is not read before this one is. */
export type BundleSource = AsyncIterable<BundleFile>;

export interface SourceLimits {
  /** Bytes of the whole upload as sent (multipart framing or archive included). */
  maxBundleBytes: number;
  /** Files in one bundle (index, its signature, and two per entry at most). */
  maxFiles: number;
}

export const aborted = (): ImportRefusal =>
  new ImportRefusal(HttpStatus.BAD_REQUEST, 'aborted', 'the client aborted the upload');

/** Archive tools write `./index.json` for `tar -C dir .`; the index names `index.json`. */
export const archiveName = (name: string): string => name.replace(/^(\.\/)+/, '');

/**
 * Pipes the request body through a byte counter into `sink`. Any failure (the client aborting,
 * the bundle cap, the sink) goes to `fail`. The returned `stop` detaches the request at once: the
 * rest of a refused upload is never stored (the controller drops it briefly, then cuts the
 * connection).
 */
export function streamRequest(
  req: IncomingMessage,
  sink: Writable,
  limits: SourceLimits,
  fail: (error: Error) => void,
): () => void {
  const counter = new ByteLimit(limits.maxBundleBytes, () =>
    tooLarge(
      'bundle-too-large',
      `the upload is larger than ${limits.maxBundleBytes} bytes (IMPORT_MAX_BUNDLE_BYTES)`,
    ),
  );
  const onClose = (): void => {
    if (!req.complete) fail(aborted());
  };
  req.on('close', onClose);
  req.on('error', () => fail(aborted()));
  counter.on('error', fail);
  sink.on('error', fail);
  req.pipe(counter).pipe(sink);
  return () => {
    req.off('close', onClose);
    req.unpipe(counter);
    counter.unpipe(sink);
    counter.destroy();
  };
}

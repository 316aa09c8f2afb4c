import busboy from 'busboy';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { streamRequest, type BundleFile, type SourceLimits } from './bundle-source';
import { badBundle, tooLarge } from './import-refusal';

/**
 * The files of a `multipart/form-data` bundle: one file part per file, its form field name the
 * path the index gives it (`curl -F 'index.json=@index.json' -F 'agent/x.zip=@x.zip'`). Field
 * names are used because clients reduce a file name to its last segment. Text fields are refused.
 */
export async function* multipartFiles(
  req: IncomingMessage,
  limits: SourceLimits,
): AsyncGenerator<BundleFile> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { files: limits.maxFiles, parts: limits.maxFiles, fields: 0, fieldNameSize: 1100 },
    });
  } catch (error) {
    throw badBundle(
      'malformed-bundle',
      `not a readable multipart body: ${(error as Error).message}`,
    );
  }
  const queue: BundleFile[] = [];
  let current: Readable | undefined;
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: Error): void => {
    failure ??= error;
    // The file being read waits for bytes that will never come: end its read with the cause.
    current?.destroy(failure);
    notify();
  };
  parser.on('file', (name: string, stream: Readable) => {
    // A file left unread when the intake stops is destroyed with the parser; its error then has
    // nobody to tell (whoever reads a file listens through its pipeline).
    stream.on('error', () => undefined);
    current = stream;
    queue.push({ name, stream });
    notify();
  });
  parser.on('fieldsLimit', () =>
    fail(badBundle('not-a-file', 'every part must be a file (a text field was sent)')),
  );
  const tooMany = (): void =>
    fail(tooLarge('too-many-files', `a bundle holds at most ${limits.maxFiles} files`));
  parser.on('filesLimit', tooMany);
  parser.on('partsLimit', tooMany);
  parser.on('close', () => {
    ended = true;
    notify();
  });
  const stop = streamRequest(req, parser, limits, (error) =>
    fail(
      error.name === 'ImportRefusal'
        ? error
        : badBundle('malformed-bundle', `not a readable multipart body: ${error.message}`),
    ),
  );
  try {
    for (;;) {
      if (failure) throw failure;
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stop();
    parser.destroy();
  }
}

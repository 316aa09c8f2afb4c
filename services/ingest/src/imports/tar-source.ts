import type { IncomingMessage } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import { extract } from 'tar-stream';
import { streamRequest, type BundleFile, type SourceLimits } from './bundle-source';
import { badBundle, tooLarge } from './import-refusal';

/**
 * The files of an `application/x-tar` bundle, read as the upload streams in (nothing of the
 * archive itself is kept). A tar is read front to back, so `index.json` and `index.json.p7s` must
 * be its first files (`tar -cf bundle.tar index.json index.json.p7s <the rest>`). Directories are
 * skipped; links and devices are refused.
 */
export async function* tarFiles(
  req: IncomingMessage,
  limits: SourceLimits,
): AsyncGenerator<BundleFile> {
  const archive = extract();
  // tar-stream's streams are streamx streams: they take a Node pipe, but are typed apart.
  const stop = streamRequest(req, archive as unknown as Writable, limits, (error) =>
    archive.destroy(
      error.name === 'ImportRefusal'
        ? error
        : badBundle('malformed-bundle', `not a readable tar archive: ${error.message}`),
    ),
  );
  let files = 0;
  try {
    for await (const entry of archive) {
      const { name, type, size } = entry.header;
      if (type === 'directory') {
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') {
        throw badBundle('not-a-file', `${name} is a ${type}, not a file`);
      }
      if (++files > limits.maxFiles) {
        throw tooLarge('too-many-files', `a bundle holds at most ${limits.maxFiles} files`);
      }
      // Readable.from: a Node stream over the entry; destroying it ends the entry's iteration.
      yield { name, stream: Readable.from(entry), declaredSize: size };
    }
  } catch (error) {
    if ((error as Error).name === 'ImportRefusal') throw error;
    throw badBundle('malformed-bundle', `not a readable tar archive: ${(error as Error).message}`);
  } finally {
    stop();
    archive.destroy();
  }
}

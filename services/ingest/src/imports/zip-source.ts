import { FEED_INDEX_FILE, FEED_INDEX_SIGNATURE_FILE } from '@sup/contracts';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import yauzl from 'yauzl';
import { archiveName, streamRequest, type BundleFile, type SourceLimits } from './bundle-source';
import { badBundle, tooLarge } from './import-refusal';

const HEAD = [FEED_INDEX_FILE, FEED_INDEX_SIGNATURE_FILE];

/**
 * The files of an `application/zip` bundle. A zip's directory is at its end, so the upload is
 * first written (within the bundle cap) to `tempDir`; then `index.json` and `index.json.p7s` are
 * handed over first, wherever they sit, and the other files in directory order. Entry names are
 * checked by yauzl (no absolute paths, no `..`, no backslashes) and sizes against the directory.
 */
export async function* zipFiles(
  req: IncomingMessage,
  tempDir: string,
  limits: SourceLimits,
): AsyncGenerator<BundleFile> {
  const path = join(tempDir, 'bundle.zip');
  await receiveArchive(req, path, limits);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: true,
      validateEntrySizes: true,
      strictFileNames: true,
    });
  } catch (error) {
    throw badBundle('malformed-bundle', `not a readable zip archive: ${(error as Error).message}`);
  }
  try {
    const entries = await listEntries(zip, limits.maxFiles);
    const rank = (e: yauzl.Entry): number => {
      const at = HEAD.indexOf(archiveName(e.fileName));
      return at === -1 ? HEAD.length : at;
    };
    // A stable sort: the index and its signature first, everything else in directory order.
    for (const entry of [...entries].sort((a, b) => rank(a) - rank(b))) {
      const stream = await zip.openReadStreamPromise(entry).catch((error: Error) => {
        throw badBundle('malformed-bundle', `${entry.fileName} cannot be read: ${error.message}`);
      });
      yield { name: entry.fileName, stream, declaredSize: entry.uncompressedSize };
    }
  } finally {
    zip.close();
  }
}

async function receiveArchive(
  req: IncomingMessage,
  path: string,
  limits: SourceLimits,
): Promise<void> {
  const file = createWriteStream(path, { flags: 'wx' });
  let failure: Error | undefined;
  const stop = streamRequest(req, file, limits, (error) => {
    failure ??= error;
    file.destroy(error);
  });
  try {
    await finished(file);
  } catch (error) {
    throw failure ?? error;
  } finally {
    stop();
  }
}

/** The directory's file entries; a name yauzl refuses is a path escape. */
function listEntries(zip: yauzl.ZipFile, maxFiles: number): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith('/')) entries.push(entry);
      if (entries.length > maxFiles) {
        reject(tooLarge('too-many-files', `a bundle holds at most ${maxFiles} files`));
        return;
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (error: Error) =>
      reject(
        /path|fileName/i.test(error.message)
          ? badBundle('path-escape', `archive entry refused: ${error.message}`)
          : badBundle('malformed-bundle', `not a readable zip archive: ${error.message}`),
      ),
    );
    zip.readEntry();
  });
}

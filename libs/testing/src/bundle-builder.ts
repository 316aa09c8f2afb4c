import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import type { BuiltFeed } from './feed-builder';

/** One file of a manual-import bundle: its path as the signed index names it, and its bytes. */
export interface BundleFileSpec {
  path: string;
  bytes: Buffer;
}

interface EntryFiles {
  artifact: { path: string };
  signature: { path: string };
}

/**
 * The files of a bundle made from a built feed: `index.json`, `index.json.p7s`, then artifact and
 * signature of each entry `pick` keeps (all by default), as a vendor would hand them over.
 */
export async function bundleFilesOf(
  feed: BuiltFeed,
  pick: (entry: Record<string, unknown>, i: number) => boolean = () => true,
): Promise<BundleFileSpec[]> {
  const read = async (path: string): Promise<BundleFileSpec> => ({
    path,
    bytes: await readFile(join(feed.dir, path)),
  });
  const files = [await read('index.json'), await read('index.json.p7s')];
  for (const [i, entry] of feed.index.updates.entries()) {
    if (!pick(entry, i)) continue;
    const { artifact, signature } = entry as unknown as EntryFiles;
    files.push(await read(artifact.path), await read(signature.path));
  }
  return files;
}

/** A `multipart/form-data` body: one file part per file, its field name the path. */
export function multipartBundle(files: BundleFileSpec[]): FormData {
  const form = new FormData();
  for (const f of files) form.append(f.path, new Blob([f.bytes]), f.path.split('/').pop());
  return form;
}

/** A tar archive holding the files in the given order. */
export async function tarBundle(files: BundleFileSpec[]): Promise<Buffer> {
  const archive = pack();
  for (const f of files) archive.entry({ name: f.path, size: f.bytes.length }, f.bytes);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** CRC-32 (IEEE) of a zip entry; written here because zlib.crc32 needs Node 20.15 (engines: 20.11). */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive (entries stored, not compressed) holding the files in the given order. Written
 * here rather than with a zip tool so tests need nothing beyond Node; names are taken as given,
 * so a test can put `../x` in an archive.
 */
export function zipBundle(files: BundleFileSpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.path, 'utf8');
    const crc = crc32(f.bytes);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.bytes.length, 18);
    local.writeUInt32LE(f.bytes.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.bytes.length, 20);
    central.writeUInt32LE(f.bytes.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.bytes);
    centrals.push(central, name);
    offset += local.length + name.length + f.bytes.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import {
  link,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { hashFileHandle } from '@sup/integrity';
import {
  ArtifactNotFoundError,
  assertArtifactKey,
  type ArtifactHash,
  type ArtifactSource,
  type ArtifactStore,
  type PutOptions,
  type PutResult,
} from './artifact-store';
import { ingest, resolveMaxBytes } from './ingest';

const TEMP_SUFFIX = '.part';
/** What link() answers on a filesystem without hard links (rename is used there instead). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** syncDir, synchronously, for the small-file path. */
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not every platform or filesystem allows fsync on a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Makes a rename or link durable: fsync the directory that holds the new name (best effort). */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Not every platform or filesystem allows fsync on a directory.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Artifacts as files: `<rootDir>/sha256/<first 2 hex>/<64 hex>`. A put writes to
 * `<rootDir>/tmp/<uuid>.part` (same filesystem), hashes while writing, fsyncs and only then gives
 * the file its key name, so a crash never leaves a partial file under a key (at worst a stale temp
 * file, which {@link FsArtifactStore.sweepTemp} removes).
 */
const READ_CHUNK_BYTES = 1024 * 1024;
const MIN_READ_CHUNK_BYTES = 16 * 1024;

export class FsArtifactStore implements ArtifactStore {
  readonly driver = 'fs' as const;
  readonly rootDir: string;
  private readonly tmpDir: string;
  private readonly objectsDir: string;

  constructor(rootDir: string) {
    if (!rootDir) throw new TypeError('FsArtifactStore needs a root directory');
    this.rootDir = resolve(rootDir);
    this.tmpDir = join(this.rootDir, 'tmp');
    this.objectsDir = join(this.rootDir, 'sha256');
  }

  /** The file that holds `key` (validated, so never outside the root). */
  pathFor(key: string): string {
    assertArtifactKey(key);
    return join(this.objectsDir, key.slice(0, 2), key);
  }

  /** Directories made by this process: each put would otherwise ask the file system twice. */
  private readonly madeDirs = new Set<string>();

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /**
   * Bytes already in memory, stored with synchronous calls: for a file of a few KiB each takes a
   * few microseconds, while the promise and thread-pool machinery around an asynchronous call
   * costs ~100 µs of CPU (measured; docs/benchmarks.md). Same guarantees as `put`: written to a
   * temp file, fsynced, linked under its key (never replacing one), directory fsynced.
   */
  async putBytes(bytes: Buffer): Promise<PutResult> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const finalPath = this.pathFor(key);
    const dir = dirname(finalPath);
    const tempPath = join(this.tmpDir, `${randomUUID()}${TEMP_SUFFIX}`);
    try {
      this.ensureDirSync(this.tmpDir);
      const fd = openSync(tempPath, 'wx', 0o644);
      try {
        for (let offset = 0; offset < bytes.length;)
          offset += writeSync(fd, bytes, offset, bytes.length - offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.ensureDirSync(dir);
      try {
        linkSync(tempPath, finalPath);
      } catch (error) {
        if (errorCode(error) === 'EEXIST') return { key, size: bytes.length, created: false };
        throw error;
      }
      syncDirSync(dir);
      return { key, size: bytes.length, created: true };
    } catch (error) {
      const code = errorCode(error);
      // Directories removed behind its back, or a filesystem without hard links: the general path.
      if (code === 'ENOENT' || NO_HARD_LINKS.has(code ?? '')) {
        this.madeDirs.clear();
        return this.put(Readable.from([bytes]));
      }
      throw error;
    } finally {
      try {
        unlinkSync(tempPath);
      } catch {
        // not created, or already gone
      }
    }
  }

  private ensureDirSync(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  /** A directory removed behind this process's back is made again, once. */
  private async retryIfDirGone<T>(dir: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      this.madeDirs.delete(dir);
      await this.ensureDir(dir);
      return work();
    }
  }

  async put(source: ArtifactSource, opts: PutOptions = {}): Promise<PutResult> {
    const maxBytes = resolveMaxBytes(opts.maxBytes);
    await this.ensureDir(this.tmpDir);
    const tempPath = join(this.tmpDir, `${randomUUID()}${TEMP_SUFFIX}`);
    const handle = await this.retryIfDirGone(this.tmpDir, () => open(tempPath, 'wx', 0o644));
    let open_ = true;
    try {
      const { key, size } = await ingest(source, maxBytes, (chunk) => writeAll(handle, chunk));
      await handle.sync();
      open_ = false;
      await handle.close();
      const finalPath = this.pathFor(key);
      await this.ensureDir(dirname(finalPath));
      const created = await this.retryIfDirGone(dirname(finalPath), () =>
        this.publish(tempPath, finalPath),
      );
      return { key, size, created };
    } finally {
      if (open_) await handle.close().catch(() => undefined);
      // After a successful link this only drops the temp name; otherwise it drops the partial file.
      await unlink(tempPath).catch(() => undefined);
    }
  }

  /** Gives the finished temp file its key name without ever replacing an existing one. */
  private async publish(tempPath: string, finalPath: string): Promise<boolean> {
    try {
      // link() fails with EEXIST instead of replacing, so of two concurrent puts of the same
      // content exactly one reports created: true.
      await link(tempPath, finalPath);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return false;
      if (!NO_HARD_LINKS.has(code ?? '')) {
        throw error;
      }
      // Filesystem without hard links: rename is still atomic; equal content, so replacing is harmless.
      if (await this.exists(finalPath)) return false;
      await rename(tempPath, finalPath);
    }
    await syncDir(dirname(finalPath));
    return true;
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async open(key: string): Promise<NodeJS.ReadableStream> {
    const handle = await this.openFile(key);
    let size: number;
    try {
      ({ size } = await handle.stat());
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    // The stream owns the handle and closes it at the end or on destroy. Up to 1 MiB reads
    // instead of the 64 KiB default (a 1 GiB artifact is read-bound, see docs/benchmarks.md), but
    // no bigger than the file: each read allocates its full size, and most files here (signatures,
    // rule updates) are a few KiB, so 1 MiB buffers for them kept the garbage collector busy.
    const highWaterMark = Math.min(READ_CHUNK_BYTES, Math.max(MIN_READ_CHUNK_BYTES, size + 1));
    return handle.createReadStream({ highWaterMark });
  }

  /** Positional reads into reused buffers: about twice the read stream's speed on big files. */
  async hash(key: string): Promise<ArtifactHash> {
    const handle = await this.openFile(key);
    try {
      return await hashFileHandle(handle);
    } finally {
      await handle.close();
    }
  }

  private async openFile(key: string): Promise<FileHandle> {
    const path = this.pathFor(key);
    try {
      return await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new ArtifactNotFoundError(key);
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const path = this.pathFor(key);
    try {
      const s = await stat(path);
      return { size: s.size };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    const path = this.pathFor(key);
    try {
      await unlink(path);
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  /**
   * Removes temp files left by puts that died (crash, kill) and were last written more than
   * `olderThanMs` ago. Returns how many were removed. Safe to run while puts are in progress as
   * long as `olderThanMs` is longer than any put stays silent.
   */
  async sweepTemp(olderThanMs = 24 * 60 * 60 * 1000): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.tmpDir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 0;
      throw error;
    }
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const path = join(this.tmpDir, name);
      try {
        const s = await stat(path);
        if (s.mtimeMs >= cutoff) continue;
        await unlink(path);
        removed += 1;
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
      }
    }
    return removed;
  }
}

import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
} from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FEED_INDEX_FILE, FEED_INDEX_SIGNATURE_FILE, RelativePathSchema } from '@sup/contracts';
import { FeedError } from './feed-error';
import { GuardedStream, tooLargeError, type ByteSource } from './guarded-stream';
import { errnoCode, messageOf } from './error-text';
import { openHttp } from './http-source';
import { DEFAULT_INDEX_MAX_BYTES, DEFAULT_INDEX_SIGNATURE_MAX_BYTES } from './index-parse';
import type { FeedUrlPolicy } from './url-policy';

export const DEFAULT_FEED_HARD_MAX_BYTES = 4 * 1024 * 1024 * 1024;
export const DEFAULT_FEED_TIMEOUT_MS = 30_000;
const FILE_READ_CHUNK = 64 * 1024;

/**
 * How a feed file is opened. O_NOFOLLOW: the path was just resolved, so a symlink here means it
 * was swapped meanwhile. O_NONBLOCK: opening a FIFO must not hang.
 */
const OPEN_FLAGS =
  fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** An opened feed file must be a regular file within the size cap. */
function checkFeedFile(
  stats: { isFile(): boolean; size: number },
  url: string,
  maxBytes: number,
  note?: string,
): void {
  if (!stats.isFile()) throw new FeedError('not-found', url, `${url} is not a regular file`);
  if (stats.size > maxBytes) throw tooLargeError(url, maxBytes, note, `(${stats.size} bytes) is`);
}

export interface FeedSourceOptions {
  /** No download may exceed this, whatever a caller asks (default 4 GiB). */
  hardMaxBytes?: number;
  /** How long to wait for a response or for the next bytes of one (default 30 s). */
  timeoutMs?: number;
  /**
   * The whole of a small read (index, signature), however slowly its bytes arrive: the idle
   * timeout alone lets a server that sends a byte now and then hold a sync forever.
   * Default: four times `timeoutMs`.
   */
  smallReadTimeoutMs?: number;
  /**
   * Which URLs may be read (the base, and every redirect hop and resolved address); without one,
   * any file: or http(s): URL may be.
   */
  policy?: FeedUrlPolicy;
}

/** The raw, unverified files of a feed's index: nothing here is parsed. */
export interface FeedIndexFiles {
  /** The exact bytes the signature covers. */
  indexBytes: Buffer;
  /** DER detached CMS signature over indexBytes. */
  signatureBytes: Buffer;
}

export interface IndexReadLimits {
  indexMaxBytes?: number;
  signatureMaxBytes?: number;
}

/** Shows what an operator typed without echoing a password. */
function showUrl(raw: string): string {
  return JSON.stringify(raw.replace(/\/\/([^/@]*):[^/@]*@/, '//$1:***@'));
}

function checkLimit(name: string, value: number): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    !Number.isInteger(value)
  ) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function fileError(error: unknown, url: string): FeedError {
  if (error instanceof FeedError) return error;
  switch (errnoCode(error)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new FeedError('not-found', url, `${url} does not exist`, { cause: error });
    case 'EISDIR':
      return new FeedError('not-found', url, `${url} is a directory, not a file`, { cause: error });
    case 'ELOOP':
      return new FeedError(
        'path-escape',
        url,
        `${url} is a symbolic link that cannot be followed safely`,
        {
          cause: error,
        },
      );
    case 'EACCES':
    case 'EPERM':
      return new FeedError('unreachable', url, `cannot read ${url}: permission denied`, {
        cause: error,
      });
    default:
      return new FeedError('unreachable', url, `cannot read ${url}: ${messageOf(error)}`, {
        cause: error,
      });
  }
}

/** Why `relPath` may not be used as a path inside the feed, or null when it is fine. */
function relativePathProblem(relPath: unknown): string | null {
  if (typeof relPath !== 'string') return 'it is not a string';
  const parsed = RelativePathSchema.safeParse(relPath);
  if (!parsed.success) return parsed.error.issues.map((i) => i.message).join('; ');
  if (/[\u0000-\u001f\u007f]/.test(relPath)) return 'it contains control characters';
  return null;
}

/**
 * A vendor feed: a base URL (`file:///abs/dir/`, `http(s)://host/path/`) holding `index.json`, its
 * detached CMS signature `index.json.p7s` and the artifacts the index names. Every read is
 * streamed and size-capped; nothing is trusted here (the caller verifies signature and hashes).
 */
export class FeedSource {
  /** The normalised base URL, always ending in "/". */
  readonly baseUrl: string;
  readonly hardMaxBytes: number;
  readonly timeoutMs: number;
  readonly smallReadTimeoutMs: number;
  private readonly base: URL;
  private readonly policy?: FeedUrlPolicy;

  private constructor(base: URL, options: FeedSourceOptions) {
    this.base = base;
    this.baseUrl = base.href;
    this.policy = options.policy;
    this.hardMaxBytes = checkLimit(
      'hardMaxBytes',
      options.hardMaxBytes ?? DEFAULT_FEED_HARD_MAX_BYTES,
    );
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FEED_TIMEOUT_MS;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive number, got ${String(options.timeoutMs)}`);
    }
    this.smallReadTimeoutMs = options.smallReadTimeoutMs ?? 4 * this.timeoutMs;
    if (!Number.isFinite(this.smallReadTimeoutMs) || this.smallReadTimeoutMs <= 0) {
      throw new RangeError(
        `smallReadTimeoutMs must be a positive number, got ${String(options.smallReadTimeoutMs)}`,
      );
    }
  }

  /** Validates and normalises a feed URL (trailing slash added); FeedError('bad-url') otherwise. */
  static parse(url: string, options: FeedSourceOptions = {}): FeedSource {
    const raw = typeof url === 'string' ? url.trim() : '';
    const bad = (why: string): FeedError =>
      new FeedError('bad-url', raw, `bad feed URL ${showUrl(raw)}: ${why}`);
    if (!raw) throw bad('it is empty');
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw bad('not an absolute URL (expected file:///abs/dir/ or https://host/path/)');
    }
    if (!['file:', 'http:', 'https:'].includes(parsed.protocol)) {
      throw bad(
        `unsupported scheme "${parsed.protocol}" (only file:, http: and https: are supported)`,
      );
    }
    if (parsed.username || parsed.password) throw bad('credentials in the URL are not supported');
    if (parsed.search || parsed.hash)
      throw bad('a feed base URL cannot have a query string or fragment');
    if (parsed.protocol === 'file:') {
      try {
        fileURLToPath(parsed);
      } catch (error) {
        throw bad(messageOf(error));
      }
    }
    if (!parsed.pathname.endsWith('/')) parsed.pathname = `${parsed.pathname}/`;
    // Refused here, before a sync is recorded; checked again for every file and redirect hop.
    options.policy?.check(parsed);
    return new FeedSource(parsed, options);
  }

  toString(): string {
    return this.baseUrl;
  }

  /** The absolute URL of an entry path; FeedError('path-escape') when it would leave the feed. */
  resolve(relPath: string): string {
    const escape = (why: string): FeedError =>
      new FeedError(
        'path-escape',
        this.baseUrl,
        `refused path ${JSON.stringify(String(relPath))} in the feed at ${this.baseUrl}: ${why}`,
      );
    const problem = relativePathProblem(relPath);
    if (problem) throw escape(problem);
    let resolved: URL;
    try {
      // Entry paths are file paths, not URL references: encode each segment so "%2e%2e", "?" or
      // "#" are names, never syntax.
      resolved = new URL(relPath.split('/').map(encodeURIComponent).join('/'), this.base);
    } catch (error) {
      throw escape(messageOf(error));
    }
    if (
      resolved.protocol !== this.base.protocol ||
      resolved.host !== this.base.host ||
      !resolved.pathname.startsWith(this.base.pathname) ||
      resolved.pathname === this.base.pathname ||
      resolved.search ||
      resolved.hash
    ) {
      throw escape(`it resolves to ${resolved.href}, outside the feed`);
    }
    return resolved.href;
  }

  /**
   * Streams an entry. The cap is min(maxBytes, hardMaxBytes): refused up front when the file size
   * or Content-Length is over it, and the stream errors with FeedError('too-large') as soon as
   * more bytes arrive.
   */
  async open(relPath: string, opts: { maxBytes: number }): Promise<NodeJS.ReadableStream> {
    const url = this.resolve(relPath);
    const requested = checkLimit('maxBytes', opts.maxBytes);
    const maxBytes = Math.min(requested, this.hardMaxBytes);
    const note = requested > this.hardMaxBytes ? "the feed's hard maximum" : undefined;
    return this.base.protocol === 'file:'
      ? this.openFile(url, maxBytes, note)
      : openHttp(url, {
          maxBytes,
          limitNote: note,
          timeoutMs: this.timeoutMs,
          policy: this.policy,
          httpsOnly: this.base.protocol === 'https:',
        });
  }

  /** A whole small entry (a signature, the index) in memory, capped at maxBytes. */
  async readSmall(relPath: string, maxBytes: number): Promise<Buffer> {
    if (this.base.protocol === 'file:') {
      return this.readSmallFile(this.resolve(relPath), Math.min(maxBytes, this.hardMaxBytes));
    }
    const stream = await this.open(relPath, { maxBytes });
    const url = this.resolve(relPath);
    const timer = setTimeout(() => {
      (stream as NodeJS.ReadableStream & { destroy(error: Error): void }).destroy(
        new FeedError(
          'timeout',
          url,
          `${url} was not read completely within ${this.smallReadTimeoutMs} ms`,
        ),
      );
    }, this.smallReadTimeoutMs);
    try {
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(chunk as Buffer);
      return Buffer.concat(parts);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * index.json and index.json.p7s as bytes, each cut off at its cap while it streams. Nothing is
   * parsed here: the caller verifies the signature over the bytes first.
   */
  async readIndex(limits: IndexReadLimits = {}): Promise<FeedIndexFiles> {
    const [indexRead, signatureRead] = await Promise.allSettled([
      this.readSmall(FEED_INDEX_FILE, limits.indexMaxBytes ?? DEFAULT_INDEX_MAX_BYTES),
      this.readSmall(
        FEED_INDEX_SIGNATURE_FILE,
        limits.signatureMaxBytes ?? DEFAULT_INDEX_SIGNATURE_MAX_BYTES,
      ),
    ]);
    if (indexRead.status === 'rejected') throw indexRead.reason;
    if (signatureRead.status === 'rejected') throw signatureRead.reason;
    return { indexBytes: indexRead.value, signatureBytes: signatureRead.value };
  }

  /**
   * A small `file:` read with synchronous calls (the same checks as `openFile`): each takes
   * microseconds, while the promise and thread-pool machinery of an asynchronous call costs
   * ~100 µs of CPU, and a feed sync reads two small files per entry.
   */
  private readSmallFile(url: string, maxBytes: number): Buffer {
    const real = this.resolveFile(url);
    let fd: number;
    try {
      fd = openSync(real, OPEN_FLAGS);
    } catch (error) {
      throw fileError(error, url);
    }
    try {
      const stats = fstatSync(fd);
      checkFeedFile(stats, url, maxBytes);
      // One byte more than fstat reported tells a file that grew since (feed files do not).
      const buffer = Buffer.allocUnsafe(stats.size + 1);
      let length = 0;
      for (let n = -1; n !== 0 && length < buffer.length; length += n) {
        n = readSync(fd, buffer, length, buffer.length - length, null);
      }
      if (length > stats.size) {
        throw length > maxBytes
          ? tooLargeError(url, maxBytes, undefined, 'is')
          : new FeedError('unreachable', url, `${url} changed while it was being read`);
      }
      return buffer.subarray(0, length);
    } catch (error) {
      throw fileError(error, url);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The real path of an entry inside a `file:` feed: symlinks are followed, then the target must
   * still be inside the feed directory. Synchronous on purpose: realpath takes microseconds, and
   * it runs for every file of every entry.
   */
  private resolveFile(url: string): string {
    const baseDir = fileURLToPath(this.base);
    let realBase: string;
    try {
      realBase = realpathSync.native(baseDir);
    } catch (error) {
      const mapped = fileError(error, this.baseUrl);
      throw mapped.code === 'not-found'
        ? new FeedError(
            'not-found',
            url,
            `${url} does not exist: the feed directory ${baseDir} is missing`,
            {
              cause: error,
            },
          )
        : mapped;
    }
    let real: string;
    try {
      // Symlinks are followed here, then the target must still be inside the feed directory.
      real = realpathSync.native(fileURLToPath(url));
    } catch (error) {
      throw fileError(error, url);
    }
    if (!real.startsWith(realBase.endsWith(sep) ? realBase : realBase + sep)) {
      throw new FeedError(
        'path-escape',
        url,
        `${url} resolves to ${real}, outside the feed directory ${realBase} (symbolic link?)`,
      );
    }
    return real;
  }

  private async openFile(
    url: string,
    maxBytes: number,
    note: string | undefined,
  ): Promise<NodeJS.ReadableStream> {
    const real = this.resolveFile(url);
    let handle: FileHandle;
    try {
      handle = await openFile(real, OPEN_FLAGS);
    } catch (error) {
      throw fileError(error, url);
    }
    // Reads no bigger than the file (each allocates its full size), and at most FILE_READ_CHUNK.
    let chunk = FILE_READ_CHUNK;
    try {
      const stats = await handle.stat();
      checkFeedFile(stats, url, maxBytes, note);
      chunk = Math.min(FILE_READ_CHUNK, Math.max(4096, stats.size + 1));
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fileError(error, url);
    }
    let closed = false;
    const source: ByteSource = {
      read: async () => {
        const buffer = Buffer.allocUnsafe(chunk);
        const { bytesRead } = await handle.read(buffer, 0, chunk, null);
        return bytesRead === 0 ? null : buffer.subarray(0, bytesRead);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await handle.close();
      },
    };
    return new GuardedStream(source, {
      url,
      maxBytes,
      limitNote: note,
      idleMs: this.timeoutMs,
      mapError: (error) => fileError(error, url),
    });
  }
}

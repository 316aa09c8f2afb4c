import { HttpStatus } from '@nestjs/common';
import { mkdir, mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ImportRefusal, tooLarge } from './import-refusal';

export interface UploadGateLimits {
  /** Under DATA_DIR: where uploads are written while they are checked. */
  uploadDir: string;
  /** Uploads one replica receives at once (IMPORT_MAX_CONCURRENT). */
  maxConcurrent: number;
  /** Free space the upload directory must keep (IMPORT_MIN_FREE_BYTES). */
  minFreeBytes: number;
  maxBundleBytes: number;
}

/** Seconds a client is told to wait when every upload slot is taken. */
const RETRY_AFTER_S = 5;

/**
 * Admits an upload before a byte of it is read: a free slot (per replica: each replica has its
 * own disk bandwidth and temp space to protect, so the count is deliberately in-process), a
 * declared length within the bundle cap, and room on disk for it plus the reserve. Each admitted
 * upload gets its own temp directory, removed by `leave` whatever happened.
 */
export class UploadGate {
  private active = 0;

  constructor(private readonly limits: UploadGateLimits) {}

  /**
   * Removes what uploads cut short by a crash left behind (a finished or refused upload removes its
   * own): directories nothing has been written to for `idleMs`. Replicas share the directory, so
   * an age well past any live upload's silence is what tells a dead one from a slow one.
   */
  async sweepStale(idleMs: number, now = Date.now()): Promise<string[]> {
    const { uploadDir } = this.limits;
    const names = await readdir(uploadDir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const path = join(uploadDir, name);
      if ((await lastWrite(path)) > now - idleMs) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  async enter(
    declaredLength: number | undefined,
  ): Promise<{ tempDir: string; leave: () => Promise<void> }> {
    const { uploadDir, maxConcurrent, minFreeBytes, maxBundleBytes } = this.limits;
    if (declaredLength !== undefined && declaredLength > maxBundleBytes) {
      throw tooLarge(
        'bundle-too-large',
        `the upload declares ${declaredLength} bytes, over the limit of ${maxBundleBytes} (IMPORT_MAX_BUNDLE_BYTES)`,
      );
    }
    if (this.active >= maxConcurrent) {
      throw new ImportRefusal(
        HttpStatus.SERVICE_UNAVAILABLE,
        'busy',
        `${maxConcurrent} uploads are already being received (IMPORT_MAX_CONCURRENT); retry later`,
        { 'retry-after': String(RETRY_AFTER_S) },
      );
    }
    this.active += 1;
    let tempDir: string | undefined;
    try {
      await mkdir(uploadDir, { recursive: true });
      const fs = await statfs(uploadDir);
      const free = fs.bavail * fs.bsize;
      if (free - (declaredLength ?? 0) < minFreeBytes) {
        throw new ImportRefusal(
          HttpStatus.INSUFFICIENT_STORAGE,
          'insufficient-storage',
          `not enough free space to receive this upload (IMPORT_MIN_FREE_BYTES is ${minFreeBytes})`,
        );
      }
      tempDir = await mkdtemp(join(uploadDir, 'imp-'));
    } catch (error) {
      this.active -= 1;
      throw error;
    }
    const dir = tempDir;
    let left = false;
    return {
      tempDir: dir,
      leave: async () => {
        if (left) return;
        left = true;
        try {
          await rm(dir, { recursive: true, force: true });
        } finally {
          this.active -= 1;
        }
      },
    };
  }
}

/** The latest modification time of a path or, for a directory, of anything directly in it. */
async function lastWrite(path: string): Promise<number> {
  const own = await stat(path).catch(() => undefined);
  if (!own) return Number.POSITIVE_INFINITY;
  if (!own.isDirectory()) return own.mtimeMs;
  let latest = own.mtimeMs;
  for (const name of await readdir(path).catch(() => [] as string[])) {
    const child = await stat(join(path, name)).catch(() => undefined);
    if (child) latest = Math.max(latest, child.mtimeMs);
  }
  return latest;
}

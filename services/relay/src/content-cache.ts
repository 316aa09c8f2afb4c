import { planEviction } from '@sup/domain';
import { mkdirSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlaneEntry } from './control-plane.client';

/** One verified file the relay keeps, with the catalog entry it was verified against. */
export interface CachedEntry {
  sha256: string;
  size: number;
  signatureSha256: string;
  signatureSize: number;
  entry: ControlPlaneEntry;
  storedAt: string;
  lastUsedMs: number;
  /** mtime and size of the artifact when its digest last matched: ranges are served on that. */
  verified?: { mtimeMs: number; size: number };
}

interface IndexFile {
  entries: CachedEntry[];
  /** Failures reported per update: the attempt number of the next one. */
  failures: Record<string, number>;
}

const HEX = /^[0-9a-f]{64}$/;

/**
 * The relay's content-addressed cache on disk: `objects/<sha256>` and `objects/<sha256>.p7s`,
 * partial downloads in `tmp/`, and `index.json` naming what was verified (written to a temporary
 * file and renamed, so a crash leaves the old or the new index, never half of one). A file in
 * `objects/` that the index does not name is removed at start: it was moved in but never
 * recorded, and the durable consumer redelivers its update.
 */
export class ContentCache {
  private readonly index = new Map<string, CachedEntry>();
  private failures: Record<string, number> = {};
  private writing: Promise<void> = Promise.resolve();
  private dirtyTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {
    mkdirSync(join(dir, 'objects'), { recursive: true });
    mkdirSync(join(dir, 'tmp'), { recursive: true });
  }

  artifactPath = (sha256: string): string => join(this.dir, 'objects', sha256);
  signaturePath = (sha256: string): string => join(this.dir, 'objects', `${sha256}.p7s`);
  partPath = (sha256: string): string => join(this.dir, 'tmp', `${sha256}.part`);

  /** Reads the index and keeps only entries whose files are there with their recorded sizes. */
  async load(): Promise<{ kept: number; dropped: number }> {
    let parsed: IndexFile = { entries: [], failures: {} };
    try {
      parsed = JSON.parse(await readFile(join(this.dir, 'index.json'), 'utf8')) as IndexFile;
    } catch {
      // no index yet, or an unreadable one: everything is fetched again
    }
    this.failures = parsed.failures ?? {};
    let dropped = 0;
    for (const e of parsed.entries ?? []) {
      const [a, s] = await Promise.all([
        stat(this.artifactPath(e.sha256)).catch(() => undefined),
        stat(this.signaturePath(e.sha256)).catch(() => undefined),
      ]);
      if (HEX.test(e.sha256) && a?.size === e.size && s?.size === e.signatureSize)
        this.index.set(e.sha256, e);
      else dropped++;
    }
    for (const name of await readdir(join(this.dir, 'objects'))) {
      if (!this.index.has(name.replace(/\.p7s$/, '')))
        await rm(join(this.dir, 'objects', name), { force: true });
    }
    await this.save();
    return { kept: this.index.size, dropped };
  }

  get(sha256: string): CachedEntry | undefined {
    return this.index.get(sha256);
  }

  entries(): CachedEntry[] {
    return [...this.index.values()];
  }

  totalBytes(): number {
    return this.entries().reduce((sum, e) => sum + e.size + e.signatureSize, 0);
  }

  /**
   * Deletes what the eviction policy picks so `incomingBytes` fit; false (nothing deleted) when
   * they cannot fit even then.
   */
  async makeRoom(incomingBytes: number, required: ReadonlySet<string>): Promise<boolean> {
    const plan = planEviction({
      files: this.entries().map((e) => ({
        sha256: e.sha256,
        kind: e.entry.kind,
        component: e.entry.component,
        ...(e.entry.platform ? { platform: e.entry.platform } : {}),
        version: e.entry.version,
        size: e.size + e.signatureSize,
        lastUsedMs: e.lastUsedMs,
      })),
      incomingBytes,
      maxBytes: this.maxBytes,
      required,
    });
    if (!plan.fits) return false;
    for (const sha of plan.evict) await this.remove(sha);
    return true;
  }

  /** Moves a verified download and its signature in, then records them. */
  async put(
    entry: Omit<CachedEntry, 'storedAt' | 'lastUsedMs'>,
    artifactFile: string,
    signatureFile: string,
  ): Promise<CachedEntry> {
    await rename(signatureFile, this.signaturePath(entry.sha256));
    await rename(artifactFile, this.artifactPath(entry.sha256));
    const mtimeMs = (await stat(this.artifactPath(entry.sha256))).mtimeMs;
    const stored: CachedEntry = {
      ...entry,
      storedAt: new Date().toISOString(),
      lastUsedMs: Date.now(),
      verified: { mtimeMs, size: entry.size },
    };
    this.index.set(entry.sha256, stored);
    await this.save();
    return stored;
  }

  async remove(sha256: string): Promise<void> {
    this.index.delete(sha256);
    await this.save();
    await rm(this.artifactPath(sha256), { force: true });
    await rm(this.signaturePath(sha256), { force: true });
  }

  /** An agent read it: later in the eviction order (saved lazily, it only orders eviction). */
  touch(sha256: string): void {
    const e = this.index.get(sha256);
    if (!e) return;
    e.lastUsedMs = Date.now();
    this.dirtyTimer ??= setTimeout(() => {
      this.dirtyTimer = undefined;
      void this.save().catch(() => undefined);
    }, 5_000).unref();
  }

  /** Whether the artifact is as it was when its digest last matched (same mtime and size). */
  async isVerified(sha256: string): Promise<boolean> {
    const e = this.index.get(sha256);
    const s = await stat(this.artifactPath(sha256)).catch(() => undefined);
    return !!e?.verified && !!s && s.mtimeMs === e.verified.mtimeMs && s.size === e.verified.size;
  }

  async markVerified(sha256: string): Promise<void> {
    const e = this.index.get(sha256);
    const s = await stat(this.artifactPath(sha256)).catch(() => undefined);
    if (!e || !s) return;
    e.verified = { mtimeMs: s.mtimeMs, size: s.size };
    await this.save();
  }

  /** The attempt number of the next failure reported for an update (persisted). */
  async nextFailureAttempt(updateId: string): Promise<number> {
    const attempt = (this.failures[updateId] ?? 0) + 1;
    this.failures[updateId] = attempt;
    await this.save();
    return attempt;
  }

  /** Index writes one after another, each complete (temporary file, then rename). */
  save(): Promise<void> {
    const body: IndexFile = { entries: this.entries(), failures: this.failures };
    const text = JSON.stringify(body);
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        const tmp = join(this.dir, 'tmp', `index.${process.pid}.json`);
        await writeFile(tmp, text);
        await rename(tmp, join(this.dir, 'index.json'));
      });
    return this.writing;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import {
  ArtifactTooLargeError,
  putBytes,
  type ArtifactStore,
  type PutResult,
} from '@sup/artifact-store';
import {
  FeedEntrySchema,
  SUBJECTS,
  updateIdFor,
  type EventData,
  type FeedEntry,
  type UpdateDescriptor,
} from '@sup/contracts';
import type { EntryResult } from '@sup/domain';
import { FeedError, type FeedSource } from '@sup/feed';
import type { OutgoingEvent } from '@sup/jetstream';
import { ARTIFACT_STORE, decision, SERVICE_CONFIG } from '@sup/service-kit';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { IngestConfig } from '../config';
import { ArtifactRefsService } from '../state/artifact-refs';
import { ImportRepository, type ImportRecord } from '../state/import.repository';
import { classifyInvalidEntry, entryRejection } from './entry-rejection';

type FeedOrigin = Extract<UpdateDescriptor['source'], { type: 'feed' }>;
type Rejected = EventData<typeof SUBJECTS.rejected>;

export const SIGNATURE_MAX_BYTES = 1024 * 1024;
/** Artifacts up to this size are read into memory whole; larger ones are streamed. */
const IN_MEMORY_MAX_BYTES = 1024 * 1024;

/**
 * Faults of the entry itself, by the file they concern: a verdict on the update. Anything else
 * (network, server errors, a 404 while the vendor is still uploading) is worth retrying and, if it
 * persists, fails the entry on the sync without a verdict on the update.
 */
const ENTRY_FAULTS: Record<'artifact' | 'signature', Partial<Record<string, string>>> = {
  artifact: { 'path-escape': 'path-escape', 'too-large': 'too-large' },
  signature: { 'path-escape': 'path-escape', 'too-large': 'signature-too-large' },
};

/** What one entry came to: a result for the sync, the record to insert, the events to announce. */
export interface EntryImport {
  result: EntryResult;
  record?: ImportRecord;
  events: OutgoingEvent[];
}

/** A transient failure of one entry, with the code the sync reports if it persists. */
export class EntryFetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EntryFetchError';
  }
}

export function descriptorOf(
  id: string,
  entry: FeedEntry,
  source: UpdateDescriptor['source'],
  keys: { artifact: string; signature: string },
): UpdateDescriptor {
  return {
    updateId: id,
    kind: entry.kind,
    component: entry.component,
    ...(entry.kind === 'software' ? { platform: entry.platform } : {}),
    version: entry.version,
    ...(entry.releasedAt ? { releasedAt: entry.releasedAt } : {}),
    ...(entry.kind === 'software' && entry.minManagerVersion
      ? { minManagerVersion: entry.minManagerVersion }
      : {}),
    ...(entry.notesUrl ? { notesUrl: entry.notesUrl } : {}),
    source,
    artifact: { ...entry.artifact, storeKey: keys.artifact },
    signature: { ...entry.signature, storeKey: keys.signature },
  };
}

export const idOf = (entry: FeedEntry): string =>
  updateIdFor({
    kind: entry.kind,
    component: entry.component,
    platform: entry.kind === 'software' ? entry.platform : undefined,
    version: entry.version,
    sha256: entry.artifact.sha256,
  });

/** The event that announces a stored record; re-announcing it is harmless (compare-and-set). */
export function announcementOf(record: ImportRecord): OutgoingEvent {
  return record.state === 'imported'
    ? decision(SUBJECTS.imported, record._id, record.event as EventData<typeof SUBJECTS.imported>)
    : decision(SUBJECTS.rejected, record._id, record.event as Rejected);
}

/**
 * Imports one feed entry: validates it, skips an update already recorded, acquires the bytes it
 * will store (so the janitor cannot delete them underneath), streams artifact and signature into
 * the store, and returns the record and the event for the caller to write in bulk.
 */
@Injectable()
export class EntryImporter {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    private readonly imports: ImportRepository,
    private readonly refs: ArtifactRefsService,
  ) {}

  async importEntry(
    raw: Record<string, unknown>,
    feed: FeedSource,
    origin: FeedOrigin,
  ): Promise<EntryImport> {
    const parsed = FeedEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const { code, reason } = classifyInvalidEntry(raw, parsed.error);
      return this.refuse(entryRejection(raw, code, reason, origin), origin.syncId);
    }
    const entry = parsed.data;
    const id = idOf(entry);
    const existing = await this.imports.find(id);
    if (existing) {
      // Recorded before: by an earlier sync (unchanged), or by this one before a crash (its
      // announcement may be missing, so it is made again).
      return {
        result: classify(existing, origin.syncId),
        events: [announcementOf(existing)],
      };
    }
    let keys: { artifact: string; signature: string };
    try {
      keys = await this.fetchIntoStore(id, entry, feed);
    } catch (error) {
      const verdict = entryFault(error);
      if (!verdict) throw asFetchError(error);
      return this.refuse(entryRejection(raw, verdict, errorText(error), origin), origin.syncId);
    }
    const update = descriptorOf(id, entry, origin, keys);
    const event = { update, importedAt: new Date().toISOString() };
    return {
      result: 'imported',
      record: {
        _id: id,
        state: 'imported',
        event,
        storeKeys: [keys.artifact, keys.signature],
        syncId: origin.syncId,
        createdAt: new Date(),
      },
      events: [decision(SUBJECTS.imported, id, event)],
    };
  }

  private async fetchIntoStore(
    id: string,
    entry: FeedEntry,
    feed: FeedSource,
  ): Promise<{ artifact: string; signature: string }> {
    if (entry.artifact.size > this.config.maxArtifactBytes) {
      const limit = this.config.maxArtifactBytes;
      throw new FileFault(
        'artifact',
        new FeedError(
          'too-large',
          feed.baseUrl,
          `artifact ${entry.artifact.path} declares ${entry.artifact.size} bytes, over the limit of ${limit} (FEED_MAX_ARTIFACT_BYTES)`,
        ),
      );
    }
    const signature = await about('signature', () =>
      feed.readSmall(entry.signature.path, SIGNATURE_MAX_BYTES),
    );
    const signatureKey = createHash('sha256').update(signature).digest('hex');
    // Acquire before storing: from here on the janitor cannot delete these bytes.
    await this.refs.acquire(signatureKey, id);
    await this.refs.acquire(entry.artifact.sha256.toLowerCase(), id);
    // The published size is the cap: a feed that sends more than it declared is cut off mid-stream.
    const maxBytes = entry.artifact.size;
    const artifact = await about('artifact', () =>
      maxBytes <= IN_MEMORY_MAX_BYTES && feed.baseUrl.startsWith('file:')
        ? // Small artifacts of a local feed (rule updates, patterns) in one read and one write:
          // far less per-file overhead than the streaming path, and a local file cannot trickle.
          feed.readSmall(entry.artifact.path, maxBytes).then((bytes) => putBytes(this.store, bytes))
        : this.stream(feed, entry.artifact.path, maxBytes),
    );
    if (artifact.key !== entry.artifact.sha256.toLowerCase()) {
      // Other bytes than published: checksum rejects the update; keep them held until then.
      await this.refs.acquire(artifact.key, id);
    }
    const sig = await putBytes(this.store, signature);
    return { artifact: artifact.key, signature: sig.key };
  }

  /** A large artifact, streamed into the store and bounded in time as a whole. */
  private async stream(feed: FeedSource, path: string, maxBytes: number): Promise<PutResult> {
    const source = await feed.open(path, { maxBytes });
    // The feed's timeout is per read; this one bounds the whole download, so a server that
    // trickles bytes cannot hold the entry (and its sync) forever.
    const timer = setTimeout(() => {
      (source as Readable).destroy(
        new FeedError(
          'timeout',
          feed.baseUrl,
          `downloading ${path} took longer than ${this.config.entryTimeoutMs} ms (FEED_ENTRY_TIMEOUT_MS)`,
        ),
      );
    }, this.config.entryTimeoutMs);
    try {
      return await this.store.put(source, { maxBytes });
    } finally {
      clearTimeout(timer);
    }
  }

  private async refuse(event: Rejected, syncId: string): Promise<EntryImport> {
    const existing = await this.imports.find(event.updateId);
    if (existing) return { result: classify(existing, syncId), events: [announcementOf(existing)] };
    return {
      result: 'rejected',
      record: {
        _id: event.updateId,
        state: 'rejected',
        event,
        storeKeys: [],
        syncId,
        createdAt: new Date(),
      },
      events: [decision(SUBJECTS.rejected, event.updateId, event)],
    };
  }
}

/** Tags a failure with the file it concerns, so the rejection code can say which one. */
class FileFault extends Error {
  constructor(
    readonly file: 'artifact' | 'signature',
    override readonly cause: unknown,
  ) {
    super(errorText(cause));
  }
}

const about = <T>(file: 'artifact' | 'signature', work: () => Promise<T>): Promise<T> =>
  work().catch((error: unknown) => {
    throw new FileFault(file, error);
  });

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function entryFault(error: unknown): string | undefined {
  if (!(error instanceof FileFault)) return undefined;
  const { cause, file } = error;
  if (cause instanceof ArtifactTooLargeError) return ENTRY_FAULTS[file]['too-large'];
  if (cause instanceof FeedError) return ENTRY_FAULTS[file][cause.code];
  return undefined;
}

function asFetchError(error: unknown): Error {
  const cause = error instanceof FileFault ? error.cause : error;
  if (cause instanceof FeedError) {
    const code = cause.code === 'not-found' ? `${(error as FileFault).file}-missing` : cause.code;
    return new EntryFetchError(code, cause.message);
  }
  return cause instanceof Error ? cause : new Error(String(cause));
}

/** An entry counts as imported (or rejected) by the sync that first recorded it, even across its retries. */
export function classify(record: ImportRecord, syncId: string): EntryResult {
  if (record.syncId !== syncId) return 'unchanged';
  return record.state === 'imported' ? 'imported' : 'rejected';
}

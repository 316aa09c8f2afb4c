import { Inject, Injectable } from '@nestjs/common';
import { ArtifactTooLargeError, type ArtifactStore } from '@sup/artifact-store';
import {
  FeedEntrySchema,
  updateIdFor,
  type EventData,
  type FeedEntry,
  type SUBJECTS,
  type UpdateDescriptor,
} from '@sup/contracts';
import { FeedError, type FeedSource } from '@sup/feed';
import { ARTIFACT_STORE, SERVICE_CONFIG } from '@sup/service-kit';
import { Readable } from 'node:stream';
import type { IngestConfig } from './config';
import { classifyInvalidEntry, entryRejection } from './entry-rejection';
import { ImportLedger } from './import-ledger.service';
import type { ImportRecord } from './schemas';

export type EntryResult = 'imported' | 'unchanged' | 'rejected';
type FeedOrigin = Extract<
  EventData<typeof SUBJECTS.imported>['update']['source'],
  { type: 'feed' }
>;

const SIGNATURE_MAX_BYTES = 1024 * 1024;
/**
 * Feed errors that are the entry's own fault, by which file they concern; anything else (network)
 * is worth retrying the sync.
 */
const ENTRY_FAULTS: Record<'artifact' | 'signature', Record<string, string>> = {
  artifact: {
    'path-escape': 'path-escape',
    'not-found': 'artifact-missing',
    'too-large': 'too-large',
  },
  signature: {
    'path-escape': 'path-escape',
    'not-found': 'signature-missing',
    'too-large': 'signature-too-large',
  },
};

/** Tags a failure with the file it concerns, so the rejection code can say which one. */
class EntryFileError extends Error {
  constructor(
    readonly file: 'artifact' | 'signature',
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const about = <T>(file: 'artifact' | 'signature', work: () => Promise<T>): Promise<T> =>
  work().catch((error: unknown) => {
    throw new EntryFileError(file, error);
  });

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

@Injectable()
export class EntryImporter {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    private readonly ledger: ImportLedger,
  ) {}

  async importEntry(
    raw: Record<string, unknown>,
    feed: FeedSource,
    origin: FeedOrigin,
  ): Promise<EntryResult> {
    const parsed = FeedEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const { code, reason } = classifyInvalidEntry(raw, parsed.error);
      return this.refuse(entryRejection(raw, code, reason, origin), origin.syncId);
    }
    const entry = parsed.data;
    const id = idOf(entry);
    const existing = await this.ledger.find(id);
    if (existing) return classify(existing, origin.syncId);

    let keys: { artifact: string; signature: string };
    try {
      keys = await this.fetchIntoStore(entry, feed);
    } catch (error) {
      if (!(error instanceof EntryFileError)) throw error;
      const { cause, file } = error;
      const code =
        cause instanceof FeedError
          ? ENTRY_FAULTS[file][cause.code]
          : cause instanceof ArtifactTooLargeError
            ? ENTRY_FAULTS[file]['too-large']
            : undefined;
      if (!code) throw cause;
      return this.refuse(entryRejection(raw, code, error.message, origin), origin.syncId);
    }
    const update = descriptorOf(id, entry, origin, keys);
    const record = await this.ledger.record(
      id,
      { state: 'imported', event: { update, importedAt: new Date().toISOString() } },
      { storeKeys: [keys.artifact, keys.signature], syncId: origin.syncId },
    );
    return classify(record, origin.syncId);
  }

  private async fetchIntoStore(
    entry: FeedEntry,
    feed: FeedSource,
  ): Promise<{ artifact: string; signature: string }> {
    // The published size is the cap: a feed that sends more than it declared is refused mid-stream.
    const maxBytes = Math.min(entry.artifact.size, this.config.maxArtifactBytes);
    if (entry.artifact.size > this.config.maxArtifactBytes) {
      const limit = this.config.maxArtifactBytes;
      const message = `artifact ${entry.artifact.path} declares ${entry.artifact.size} bytes, over the limit of ${limit} (FEED_MAX_ARTIFACT_BYTES)`;
      throw new EntryFileError('artifact', new FeedError('too-large', message, feed.baseUrl));
    }
    const signature = await about('signature', () =>
      feed.readSmall(entry.signature.path, SIGNATURE_MAX_BYTES),
    );
    const artifact = await about('artifact', async () =>
      this.store.put(await feed.open(entry.artifact.path, { maxBytes }), { maxBytes }),
    );
    const sig = await this.store.put(Readable.from([signature]), { maxBytes: SIGNATURE_MAX_BYTES });
    return { artifact: artifact.key, signature: sig.key };
  }

  private async refuse(
    event: EventData<typeof SUBJECTS.rejected>,
    syncId: string,
  ): Promise<EntryResult> {
    // record() keeps an existing record (first writer wins), so no lookup is needed first.
    const record = await this.ledger.record(
      event.updateId,
      { state: 'rejected', event },
      { storeKeys: [], syncId },
    );
    return classify(record, syncId);
  }
}

/** An entry counts as imported (or rejected) by the sync that first recorded it, even across retries of that sync. */
function classify(record: ImportRecord, syncId: string): EntryResult {
  if (record.syncId !== syncId) return 'unchanged';
  return record.state === 'imported' ? 'imported' : 'rejected';
}

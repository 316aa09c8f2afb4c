import { Inject, Injectable } from '@nestjs/common';
import { putBytes, type ArtifactStore } from '@sup/artifact-store';
import { SUBJECTS, type UpdateDescriptor } from '@sup/contracts';
import type { OutgoingEvent } from '@sup/jetstream';
import { ARTIFACT_STORE, decision, Outbox } from '@sup/service-kit';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { announcementOf, descriptorOf } from '../entries/entry-importer.service';
import { ArtifactRefsService } from '../state/artifact-refs';
import { ImportRepository, type ImportRecord } from '../state/import.repository';
import type { BundleEntry } from './bundle-entries';

type ManualSource = Extract<UpdateDescriptor['source'], { type: 'manual' }>;

/** What became of one entry of an accepted bundle. */
export interface EntryOutcome {
  updateId: string;
  component: string;
  version: string;
  /** Ingest's record of it: `imported`, or `rejected` when an earlier feed entry was refused. */
  state: ImportRecord['state'];
  /** false: the update was recorded before (by a feed sync or an earlier import). */
  created: boolean;
}

/**
 * Stores and records the entries of a verified bundle exactly as a feed sync records its entries:
 * bytes acquired before they are stored, one insert-once bulk write, `updates.v1.imported`
 * through the outbox. Only bytes that matched their signed SHA-256 ever reach this class.
 */
@Injectable()
export class BundleRecorder {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    private readonly imports: ImportRepository,
    private readonly refs: ArtifactRefsService,
  ) {}

  async record(entries: BundleEntry[], source: ManualSource): Promise<EntryOutcome[]> {
    const outcomes = new Map<string, EntryOutcome>();
    const records: ImportRecord[] = [];
    const fresh = new Map<string, OutgoingEvent>();
    const again: OutgoingEvent[] = [];
    for (const e of entries) {
      if (outcomes.has(e.id)) continue;
      const existing = await this.imports.find(e.id);
      if (existing) {
        // Announced again in case its first recording stopped short of it (compare-and-set: once).
        outcomes.set(e.id, outcomeOf(e, existing.state, false));
        again.push(announcementOf(existing));
        continue;
      }
      const keys = await this.storeEntry(e);
      const event = {
        update: descriptorOf(e.id, e.entry, source, keys),
        importedAt: new Date().toISOString(),
      };
      fresh.set(e.id, decision(SUBJECTS.imported, e.id, event));
      records.push({
        _id: e.id,
        state: 'imported',
        event,
        storeKeys: [keys.artifact, keys.signature],
        importId: source.importId,
        createdAt: new Date(),
      });
      outcomes.set(e.id, outcomeOf(e, 'imported', true));
    }
    const existed = await this.imports.insertNew(records);
    const events = [...again];
    for (const record of records) {
      const event = fresh.get(record._id);
      if (event && !existed.has(record._id)) {
        events.push(event);
        continue;
      }
      // Another replica (or a feed sync) recorded it a moment earlier: its record stands.
      const winner = await this.imports.find(record._id);
      const outcome = outcomes.get(record._id);
      if (winner && outcome) {
        outcomes.set(record._id, { ...outcome, state: winner.state, created: false });
        events.push(announcementOf(winner));
      }
    }
    const announced = await this.outbox.announce(events);
    const failed = announced.find((a) => a.state === 'failed');
    if (failed?.state === 'failed') throw failed.error;
    return [...outcomes.values()];
  }

  private async storeEntry(e: BundleEntry): Promise<{ artifact: string; signature: string }> {
    // Acquire before storing: from here on the janitor cannot delete these bytes.
    await this.refs.acquire(e.signature.sha256, e.id);
    await this.refs.acquire(e.artifact.sha256, e.id);
    const artifact = await this.store.put(createReadStream(e.artifact.tempPath), {
      maxBytes: e.artifact.size,
    });
    if (artifact.key !== e.artifact.sha256) {
      // The temp file changed after it was measured: a fault of this host, not of the upload.
      throw new Error(`${e.artifact.path} changed on disk after it was verified`);
    }
    const signature = await putBytes(this.store, await readFile(e.signature.tempPath));
    return { artifact: artifact.key, signature: signature.key };
  }
}

const outcomeOf = (
  e: BundleEntry,
  state: ImportRecord['state'],
  created: boolean,
): EntryOutcome => ({
  updateId: e.id,
  component: e.entry.component,
  version: e.entry.version,
  state,
  created,
});

import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { ArtifactTooLargeError, type ArtifactStore } from '@sup/artifact-store';
import { FeedEntrySchema, newImportId, SUBJECTS } from '@sup/contracts';
import { ARTIFACT_STORE, decision, Outbox } from '@sup/service-kit';
import { createReadStream } from 'node:fs';
import { announcementOf, descriptorOf, idOf } from '../entries/entry-importer.service';
import { classifyInvalidEntry } from '../entries/entry-rejection';
import { ArtifactRefsService } from '../state/artifact-refs';
import { ImportRepository } from '../state/import.repository';

export interface UploadedImport {
  manifest: string;
  artifactPath: string;
  signaturePath: string;
}

/** A manual import: the same checks and events as a feed entry, from files an operator uploaded. */
@Injectable()
export class ManualImportService {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(Outbox) private readonly outbox: Outbox,
    private readonly imports: ImportRepository,
    private readonly refs: ArtifactRefsService,
  ) {}

  async import(
    upload: UploadedImport,
  ): Promise<{ id: string; updateId: string; state: string; created: boolean }> {
    let raw: unknown;
    try {
      raw = JSON.parse(upload.manifest);
    } catch (error) {
      throw new BadRequestException(`manifest is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new BadRequestException(
        'manifest must be a JSON object with the fields of one feed entry',
      );
    }
    const parsed = FeedEntrySchema.safeParse(raw);
    if (!parsed.success) {
      const { code, reason } = classifyInvalidEntry(raw as Record<string, unknown>, parsed.error);
      throw new BadRequestException({ message: reason, details: [code] });
    }
    const entry = parsed.data;
    const updateId = idOf(entry);
    const existing = await this.imports.find(updateId);
    if (existing) {
      // Announced again in case the first attempt stopped short of it (compare-and-set: once).
      await this.outbox.announce([announcementOf(existing)]);
      return { id: existing.importId ?? updateId, updateId, state: existing.state, created: false };
    }

    const importId = newImportId();
    await this.refs.acquire(entry.artifact.sha256.toLowerCase(), updateId);
    let artifact;
    try {
      artifact = await this.store.put(createReadStream(upload.artifactPath), {
        maxBytes: entry.artifact.size,
      });
    } catch (error) {
      if (error instanceof ArtifactTooLargeError) {
        throw new BadRequestException(
          `artifact is larger than the ${entry.artifact.size} bytes the manifest declares`,
        );
      }
      throw error;
    }
    const signature = await this.store.put(createReadStream(upload.signaturePath), {
      maxBytes: 1024 * 1024,
    });
    // Held from here on; bytes stored a moment before are safe because the janitor only deletes
    // bytes an update releases, and this update has not been rejected yet.
    await this.refs.acquire(signature.key, updateId);
    if (artifact.key !== entry.artifact.sha256.toLowerCase())
      await this.refs.acquire(artifact.key, updateId);
    const update = descriptorOf(
      updateId,
      entry,
      { type: 'manual', importId },
      { artifact: artifact.key, signature: signature.key },
    );
    const event = { update, importedAt: new Date().toISOString() };
    const existed = await this.imports.insertNew([
      {
        _id: updateId,
        state: 'imported',
        event,
        storeKeys: [artifact.key, signature.key],
        importId,
        createdAt: new Date(),
      },
    ]);
    if (existed.size > 0) {
      const winner = await this.imports.find(updateId);
      return {
        id: winner?.importId ?? updateId,
        updateId,
        state: winner?.state ?? 'imported',
        created: false,
      };
    }
    const [announced] = await this.outbox.announce([decision(SUBJECTS.imported, updateId, event)]);
    if (announced.state === 'failed') throw announced.error;
    return { id: importId, updateId, state: 'imported', created: true };
  }
}

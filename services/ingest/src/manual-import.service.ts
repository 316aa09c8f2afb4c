import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { ArtifactTooLargeError, type ArtifactStore } from '@sup/artifact-store';
import { FeedEntrySchema, newImportId } from '@sup/contracts';
import { ARTIFACT_STORE } from '@sup/service-kit';
import { createReadStream } from 'node:fs';
import { descriptorOf, idOf } from './entry-importer.service';
import { classifyInvalidEntry } from './entry-rejection';
import { ImportLedger } from './import-ledger.service';

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
    private readonly ledger: ImportLedger,
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
    const existing = await this.ledger.find(updateId);
    if (existing)
      return { id: existing.importId ?? updateId, updateId, state: existing.state, created: false };

    const importId = newImportId();
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
    const update = descriptorOf(
      updateId,
      entry,
      { type: 'manual', importId },
      { artifact: artifact.key, signature: signature.key },
    );
    const record = await this.ledger.record(
      updateId,
      { state: 'imported', event: { update, importedAt: new Date().toISOString() } },
      { storeKeys: [artifact.key, signature.key], importId },
    );
    return {
      id: record.importId ?? importId,
      updateId,
      state: record.state,
      created: record.importId === importId,
    };
  }
}

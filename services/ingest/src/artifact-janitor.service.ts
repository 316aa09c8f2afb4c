import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ArtifactStore } from '@sup/artifact-store';
import type { EventData, SUBJECTS } from '@sup/contracts';
import { ARTIFACT_STORE, ROOT_LOGGER } from '@sup/service-kit';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import { IMPORT_MODEL, type ImportRecord } from './schemas';

/**
 * A rejected update's files are never used, so ingest (which owns the import records, and so
 * knows who else stored the same bytes) deletes them, as the reference product deletes a
 * refused ZIP. Bytes still referenced by another live import are kept.
 */
@Injectable()
export class ArtifactJanitor {
  constructor(
    @InjectModel(IMPORT_MODEL) private readonly imports: Model<ImportRecord>,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async discard(rejection: EventData<typeof SUBJECTS.rejected>): Promise<void> {
    const update = rejection.update;
    if (!update) return; // rejected before anything was stored
    await this.imports
      .updateOne(
        { _id: update.updateId, discardedAt: { $exists: false } },
        { $set: { discardedAt: new Date() } },
      )
      .exec();
    for (const key of [update.artifact.storeKey, update.signature.storeKey]) {
      const stillUsed = await this.imports
        .countDocuments({ storeKeys: key, discardedAt: { $exists: false } })
        .exec();
      if (stillUsed > 0) continue;
      if (await this.store.delete(key)) {
        this.logger.info(
          {
            updateId: update.updateId,
            correlationId: update.updateId,
            key,
            file: update.artifact.path,
          },
          `deleted stored bytes of rejected update (${rejection.stage}: ${rejection.code})`,
        );
      }
    }
  }
}

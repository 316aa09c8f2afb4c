import { Inject, Injectable } from '@nestjs/common';
import type { ArtifactStore } from '@sup/artifact-store';
import type { SUBJECTS } from '@sup/contracts';
import type { EventBatch } from '@sup/jetstream';
import { ARTIFACT_STORE, mapLimited, ROOT_LOGGER } from '@sup/service-kit';
import type { Logger } from 'pino';
import { ArtifactRefsService } from '../state/artifact-refs';

/**
 * A rejected update's files are never used, so ingest deletes them, as the reference product
 * deletes a refused ZIP. Stored bytes are content-addressed and may be shared, so each is
 * reference-counted: the rejected update releases its hold, and the bytes go only when nobody
 * holds them. While they are being deleted nobody can acquire them (see `@sup/domain`), which is
 * what makes the delete safe against an import of the same bytes running at the same moment.
 */
@Injectable()
export class ArtifactJanitor {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly refs: ArtifactRefsService,
  ) {}

  async discardBatch(batch: EventBatch<typeof SUBJECTS.rejected>): Promise<void> {
    await mapLimited(batch.items, 8, async (item) => {
      try {
        await this.discard(item.event.data);
      } catch (error) {
        batch.retry(item, error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private async discard(rejection: EventData): Promise<void> {
    const update = rejection.update;
    if (!update) return; // rejected before anything was stored
    for (const key of new Set([update.artifact.storeKey, update.signature.storeKey])) {
      if (!(await this.refs.release(key, update.updateId))) continue;
      const deleted = await this.store.delete(key);
      await this.refs.forget(key);
      if (deleted) {
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

type EventData = EventBatch<typeof SUBJECTS.rejected>['items'][number]['event']['data'];

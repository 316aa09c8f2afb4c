import { Inject, Injectable } from '@nestjs/common';
import { SUBJECTS } from '@sup/contracts';
import type { EventBatch } from '@sup/jetstream';
import { announceBatch, decision, Outbox } from '@sup/service-kit';
import { CatalogRepository } from './catalog.repository';
import type { CatalogEntry } from './schemas';

@Injectable()
export class CatalogService {
  constructor(
    private readonly catalog: CatalogRepository,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  /**
   * Takes validated updates into the catalog (one bulk insert-once) and announces them. Safe to
   * repeat: an entry that exists is kept, and the stream keeps one `published` per update.
   */
  async publishBatch(batch: EventBatch<typeof SUBJECTS.validated>): Promise<void> {
    const publishedAt = new Date();
    const entries = batch.items.map(({ event }): CatalogEntry => {
      const { update, signer } = event.data;
      return {
        _id: update.updateId,
        update,
        kind: update.kind,
        component: update.component,
        ...(update.platform ? { platform: update.platform } : {}),
        version: update.version,
        signer,
        publishedAt,
      };
    });
    await this.catalog.insertNew(entries);
    await announceBatch(
      batch,
      this.outbox,
      batch.items.map((item) => ({
        item,
        events: [
          decision(SUBJECTS.published, item.event.data.update.updateId, {
            update: item.event.data.update,
            publishedAt: publishedAt.toISOString(),
          }),
        ],
      })),
    );
  }
}

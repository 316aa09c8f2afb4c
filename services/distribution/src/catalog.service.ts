import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { SUBJECTS, type EventData } from '@sup/contracts';
import { OutcomeLedger, insertOnce, outcomeFor, type StageOutcome } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from './schemas';

@Injectable()
export class CatalogService {
  constructor(
    @InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>,
    private readonly ledger: OutcomeLedger,
  ) {}

  /** Takes a validated update into the catalog and announces it; safe to repeat. */
  publish(
    validated: EventData<typeof SUBJECTS.validated>,
  ): Promise<{ outcome: StageOutcome; replayed: boolean }> {
    const { update } = validated;
    return this.ledger.once(`publish:${update.updateId}`, async () => {
      const publishedAt = new Date();
      await insertOnce(this.catalog, update.updateId, {
        update,
        kind: update.kind,
        component: update.component,
        ...(update.platform ? { platform: update.platform } : {}),
        version: update.version,
        signer: validated.signer,
        publishedAt,
      });
      return outcomeFor(SUBJECTS.published, update.updateId, {
        update,
        publishedAt: publishedAt.toISOString(),
      });
    });
  }
}

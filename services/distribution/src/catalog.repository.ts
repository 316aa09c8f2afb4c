import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { rawCollection, allDuplicates } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from './schemas';

/** The published catalog: insert-once by update id, so a replayed publish changes nothing. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>) {}

  async insertNew(entries: CatalogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      // The driver's own insert: these documents need no mongoose casting, and it costs per document.
      await rawCollection(this.catalog).insertMany(entries, { ordered: false });
    } catch (error) {
      if (!allDuplicates(error)) throw error;
    }
  }
}

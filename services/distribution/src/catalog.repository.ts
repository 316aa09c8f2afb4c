import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { allDuplicates } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from './schemas';

/** The published catalog: insert-once by update id, so a replayed publish changes nothing. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>) {}

  async insertNew(entries: CatalogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.catalog.insertMany(entries, { ordered: false, lean: true });
    } catch (error) {
      if (!allDuplicates(error)) throw error;
    }
  }
}

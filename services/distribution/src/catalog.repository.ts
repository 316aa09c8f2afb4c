import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertManyOnce } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from './schemas';

/** The published catalog: insert-once by update id, so a replayed publish changes nothing. */
@Injectable()
export class CatalogRepository {
  constructor(@InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>) {}

  async insertNew(entries: CatalogEntry[]): Promise<void> {
    await insertManyOnce(this.catalog, entries);
  }
}

import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ListUpdatesQuery } from '@sup/contracts';
import type { UpdateView } from '@sup/domain';
import { rawCollection, allDuplicates, duplicateIndexes } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { UPDATE_VIEW_MODEL, type UpdateViewDoc } from './schemas';

/** Statements per bulk write: bounded, so one write never holds the database for long. */
const WRITE_CHUNK = 100;

/**
 * The listing projection of the update views in MongoDB. The views themselves live in a KV bucket
 * (compare-and-set); this copy exists so operators can filter, sort and page them. Each document
 * carries the KV revision it was copied from.
 */
@Injectable()
export class UpdateViewProjection {
  constructor(@InjectModel(UPDATE_VIEW_MODEL) private readonly views: Model<UpdateViewDoc>) {}

  /**
   * Bulk writes (by `_id` only) of at most WRITE_CHUNK views each: every view replaces its
   * document. Two replicas may create one document at the same moment; the loser's upsert fails as
   * a duplicate, and is simply repeated (the document now exists, so it is replaced).
   */
  async write(views: { view: UpdateView; revision: number }[]): Promise<void> {
    for (let i = 0; i < views.length; i += WRITE_CHUNK) {
      await this.writeChunk(views.slice(i, i + WRITE_CHUNK), 3);
    }
  }

  private async writeChunk(
    views: { view: UpdateView; revision: number }[],
    attempts: number,
  ): Promise<void> {
    if (views.length === 0) return;
    try {
      // The driver's own bulk write: mongoose would cast and hydrate every replacement first.
      await rawCollection(this.views).bulkWrite(
        views.map(({ view, revision }) => ({
          replaceOne: {
            filter: { _id: view.id },
            replacement: toDoc(view, revision),
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      if (attempts <= 1 || !allDuplicates(error)) throw error;
      const lost = duplicateIndexes(error);
      await this.writeChunk(lost ? lost.map((i) => views[i]) : views, attempts - 1);
    }
  }

  async page(query: ListUpdatesQuery): Promise<{ docs: UpdateViewDoc[]; total: number }> {
    const filter: Record<string, string> = {};
    if (query.kind) filter.kind = query.kind;
    if (query.component) filter.component = query.component;
    if (query.state) filter.state = query.state;
    const [docs, total] = await Promise.all([
      this.views
        .find(filter)
        .sort({ createdAt: -1, _id: 1 })
        .skip(query.offset)
        .limit(query.limit)
        .lean<UpdateViewDoc[]>()
        .exec(),
      this.views.countDocuments(filter).exec(),
    ]);
    return { docs, total };
  }
}

function toDoc(view: UpdateView, revision: number): UpdateViewDoc {
  return {
    _id: view.id,
    kind: view.kind,
    component: view.component,
    ...(view.platform ? { platform: view.platform } : {}),
    version: view.version,
    ...(view.sha256 ? { sha256: view.sha256 } : {}),
    ...(view.size !== undefined ? { size: view.size } : {}),
    state: view.state,
    rank: view.rank,
    ...(view.rejection ? { rejection: view.rejection } : {}),
    ...(view.signer ? { signer: view.signer } : {}),
    revision,
    createdAt: new Date(view.createdAt),
    updatedAt: new Date(view.updatedAt),
  };
}

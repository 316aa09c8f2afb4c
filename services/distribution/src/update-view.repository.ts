import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ListUpdatesQuery } from '@sup/contracts';
import type { UpdateView } from '@sup/domain';
import type { Model } from 'mongoose';
import { UPDATE_VIEW_MODEL, type UpdateViewDoc } from './schemas';

/**
 * The listing projection of the update views in MongoDB. The views themselves live in a KV bucket
 * (compare-and-set); this copy exists so operators can filter, sort and page them. Each document
 * carries the KV revision it was copied from.
 */
@Injectable()
export class UpdateViewProjection {
  constructor(@InjectModel(UPDATE_VIEW_MODEL) private readonly views: Model<UpdateViewDoc>) {}

  /** One bulk write: each view replaces its document (by `_id` only). */
  async write(views: { view: UpdateView; revision: number }[]): Promise<void> {
    if (views.length === 0) return;
    await this.views.bulkWrite(
      views.map(({ view, revision }) => ({
        replaceOne: {
          filter: { _id: view.id },
          replacement: toDoc(view, revision),
          upsert: true,
        },
      })),
      { ordered: false },
    );
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

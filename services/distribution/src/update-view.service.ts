import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { ListUpdatesQuery, UpdateDetail, UpdateItem, UpdateState } from '@sup/contracts';
import { applyUpdateEvent, updateIdOf, type UpdateEventType, type UpdateView } from '@sup/domain';
import type { EventBatch, Versioned, VersionedStore } from '@sup/jetstream';
import { mapLimited } from '@sup/service-kit';
import { UpdateViewProjection } from './update-view.repository';
import type { UpdateViewDoc } from './schemas';

export const UPDATE_VIEW_STORE = Symbol('UPDATE_VIEW_STORE');

/** KV round trips in flight at once while a batch is applied. */
const KV_CONCURRENCY = 32;
/** Re-projection rounds before leaving a contended view to the replica that changed it last. */
const PROJECTION_ROUNDS = 5;

/**
 * The read model behind `GET /v1/updates`. Events of one update arrive in any order and on any
 * replica, so the view is merged by compare-and-set on its KV revision (`applyUpdateEvent` is pure,
 * so a lost race just re-applies it). The MongoDB copy for listing is then written, and re-written
 * while the KV revision moved on meanwhile: whichever replica wins the last compare-and-set also
 * writes the last copy, so the listing converges on the view.
 */
@Injectable()
export class UpdateViewService {
  constructor(
    @Inject(UPDATE_VIEW_STORE) private readonly store: VersionedStore<UpdateView>,
    private readonly projection: UpdateViewProjection,
  ) {}

  async applyBatch(type: UpdateEventType, batch: EventBatch<UpdateEventType>): Promise<void> {
    const byUpdate = new Map<string, typeof batch.items>();
    for (const item of batch.items) {
      const updateId = updateIdOf(type, item.event);
      byUpdate.set(updateId, [...(byUpdate.get(updateId) ?? []), item]);
    }
    const now = new Date();
    const changed = await mapLimited([...byUpdate], KV_CONCURRENCY, async ([updateId, items]) => {
      try {
        return await this.store.update(updateId, (current) => {
          let view = current?.value;
          let touched = false;
          for (const item of items) {
            const next = applyUpdateEvent(view, type, item.event, now);
            if (next) [view, touched] = [next, true];
          }
          return touched ? view : undefined;
        });
      } catch (error) {
        for (const item of items) batch.retry(item, error as Error);
        return undefined;
      }
    });
    await this.project(changed.filter((v): v is Versioned<UpdateView> => v !== undefined));
  }

  private async project(views: Versioned<UpdateView>[]): Promise<void> {
    let pending = views;
    for (let round = 0; round < PROJECTION_ROUNDS && pending.length > 0; round++) {
      await this.projection.write(pending.map((v) => ({ view: v.value, revision: v.revision })));
      const latest = await mapLimited(pending, KV_CONCURRENCY, (v) => this.store.get(v.value.id));
      pending = latest.filter(
        (now, i): now is Versioned<UpdateView> =>
          now !== undefined && now.revision !== pending[i].revision,
      );
    }
  }

  async list(query: ListUpdatesQuery): Promise<{ items: UpdateItem[]; total: number }> {
    const { docs, total } = await this.projection.page(query);
    return { items: docs.map(itemOfDoc), total };
  }

  async get(id: string): Promise<UpdateDetail> {
    const found = await this.store.get(id);
    if (!found) throw new NotFoundException(`no update with id ${id}`);
    const v = found.value;
    return {
      id: v.id,
      kind: v.kind,
      component: v.component,
      ...(v.platform ? { platform: v.platform } : {}),
      version: v.version,
      ...(v.sha256 ? { sha256: v.sha256 } : {}),
      ...(v.size !== undefined ? { size: v.size } : {}),
      state: v.state,
      ...(v.rejection ? { rejection: v.rejection } : {}),
      ...(v.signer ? { signer: v.signer } : {}),
      updatedAt: v.updatedAt,
      history: v.history,
    };
  }
}

function itemOfDoc(doc: UpdateViewDoc): UpdateItem {
  return {
    id: doc._id,
    kind: doc.kind,
    component: doc.component,
    ...(doc.platform ? { platform: doc.platform } : {}),
    version: doc.version,
    ...(doc.sha256 ? { sha256: doc.sha256 } : {}),
    ...(doc.size !== undefined && doc.size !== null ? { size: doc.size } : {}),
    state: doc.state as UpdateState,
    ...(doc.rejection ? { rejection: doc.rejection as UpdateItem['rejection'] } : {}),
    ...(doc.signer ? { signer: doc.signer as UpdateItem['signer'] } : {}),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

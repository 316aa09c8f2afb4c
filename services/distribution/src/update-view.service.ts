import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import {
  SUBJECTS,
  type CloudEvent,
  type ListUpdatesQuery,
  type UpdateDetail,
  type UpdateItem,
  type UpdateState,
} from '@sup/contracts';
import { insertOnce, isDuplicateKeyError, KeyedMutex } from '@sup/service-kit';
import type { Model } from 'mongoose';
import {
  UPDATE_EVENT_MODEL,
  UPDATE_VIEW_MODEL,
  type UpdateEventRecord,
  type UpdateView,
} from './schemas';
import { factsOf } from './update-facts';

export type UpdateSubject =
  | typeof SUBJECTS.imported
  | typeof SUBJECTS.checksumVerified
  | typeof SUBJECTS.validated
  | typeof SUBJECTS.published
  | typeof SUBJECTS.rejected;

const STATE_OF: Record<UpdateSubject, { state: UpdateState; rank: number }> = {
  [SUBJECTS.imported]: { state: 'imported', rank: 1 },
  [SUBJECTS.checksumVerified]: { state: 'checksum-verified', rank: 2 },
  [SUBJECTS.validated]: { state: 'validated', rank: 3 },
  [SUBJECTS.published]: { state: 'published', rank: 4 },
  // Terminal: no later event can move a rejected update on.
  [SUBJECTS.rejected]: { state: 'rejected', rank: 9 },
};

@Injectable()
export class UpdateViewService {
  private readonly perUpdate = new KeyedMutex();

  constructor(
    @InjectModel(UPDATE_VIEW_MODEL) private readonly views: Model<UpdateView>,
    @InjectModel(UPDATE_EVENT_MODEL) private readonly events: Model<UpdateEventRecord>,
  ) {}

  /**
   * Stages consume in parallel, so events for one update can arrive in any order. Facts are merged
   * unconditionally; the state only ever moves forward by rank. Writes for one update are
   * serialised (see KeyedMutex for why).
   */
  apply(subject: UpdateSubject, event: CloudEvent<UpdateSubject>): Promise<void> {
    const { updateId, facts } = factsOf(subject, event);
    return this.perUpdate.run(updateId, () => this.write(subject, event, updateId, facts));
  }

  private async write(
    subject: UpdateSubject,
    event: CloudEvent<UpdateSubject>,
    updateId: string,
    facts: Record<string, unknown>,
  ): Promise<void> {
    const { state, rank } = STATE_OF[subject];
    const now = new Date();
    await insertOnce(this.events, event.id, {
      updateId,
      type: event.type,
      state,
      time: event.time,
      source: event.source,
    });
    // In-order events (the usual case) advance the state in one write.
    const advanced = await this.views
      .updateOne(
        { _id: updateId, rank: { $lt: rank } },
        { $set: { ...facts, state, rank, updatedAt: now } },
      )
      .exec();
    if (advanced.matchedCount === 1) return;
    // A new update, or an event that arrived after a later one: merge its facts, keep the state.
    try {
      await this.views
        .updateOne(
          { _id: updateId },
          { $set: { ...facts, updatedAt: now }, $setOnInsert: { state, rank, createdAt: now } },
          { upsert: true },
        )
        .exec();
    } catch (error) {
      // Another replica inserted it first; JetStream redelivers and the next attempt merges.
      if (isDuplicateKeyError(error))
        throw new Error(`update view ${updateId} was created concurrently; retrying`);
      throw error;
    }
  }

  async list(query: ListUpdatesQuery): Promise<{ items: UpdateItem[]; total: number }> {
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
        .lean()
        .exec(),
      this.views.countDocuments(filter).exec(),
    ]);
    return { items: docs.map(toItem), total };
  }

  async get(id: string): Promise<UpdateDetail> {
    const doc = await this.views.findById(id).lean().exec();
    if (!doc) throw new NotFoundException(`no update with id ${id}`);
    const history = await this.events
      .find({ updateId: id })
      .sort({ time: 1, _id: 1 })
      .lean()
      .exec();
    return {
      ...toItem(doc),
      history: history.map((h) => ({
        eventId: h._id,
        type: h.type,
        state: h.state as UpdateState,
        time: h.time,
        source: h.source,
      })),
    };
  }
}

function toItem(doc: UpdateView): UpdateItem {
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

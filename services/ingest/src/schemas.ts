import { Schema } from 'mongoose';

export interface SyncRecord {
  _id: string;
  url: string;
  state: 'running' | 'completed' | 'refused' | 'failed';
  reason?: string;
  feed?: string;
  sequence?: number;
  imported: number;
  unchanged: number;
  rejected: number;
  total?: number;
  requestedAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
}
export const SYNC_MODEL = 'Sync';
export const SyncSchema = new Schema<SyncRecord>(
  {
    _id: String,
    url: { type: String, required: true },
    state: { type: String, required: true },
    reason: String,
    feed: String,
    sequence: Number,
    imported: { type: Number, required: true },
    unchanged: { type: Number, required: true },
    rejected: { type: Number, required: true },
    total: Number,
    requestedAt: { type: Date, required: true },
    startedAt: Date,
    finishedAt: Date,
  },
  { collection: 'syncs', versionKey: false },
);

/**
 * One imported (or refused) update. `announced` flips only after JetStream acknowledged the
 * event, so a crash between the write and the publish is repaired by the next attempt.
 */
export interface ImportRecord {
  _id: string;
  state: 'imported' | 'rejected';
  /** The CloudEvent payload that announces this record (imported or rejected). */
  event: Record<string, unknown>;
  storeKeys: string[];
  syncId?: string;
  importId?: string;
  announced: boolean;
  /** Set when a later stage rejected the update and its stored bytes were released. */
  discardedAt?: Date;
  createdAt: Date;
}
export const IMPORT_MODEL = 'Import';
export const ImportSchema = new Schema<ImportRecord>(
  {
    _id: String,
    state: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    storeKeys: { type: [String], default: [] },
    syncId: String,
    importId: String,
    announced: { type: Boolean, required: true },
    discardedAt: Date,
    createdAt: { type: Date, required: true },
  },
  { collection: 'imports', versionKey: false, minimize: false },
).index({ storeKeys: 1 });

/** Highest accepted index per feed: what makes rollback (an older signed index replayed) detectable. */
export interface FeedStateRecord {
  _id: string;
  sequence: number;
  indexSha256: string;
  acceptedAt: Date;
}
export const FEED_STATE_MODEL = 'FeedState';
export const FeedStateSchema = new Schema<FeedStateRecord>(
  {
    _id: String,
    sequence: { type: Number, required: true },
    indexSha256: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
  },
  { collection: 'feed_states', versionKey: false },
);

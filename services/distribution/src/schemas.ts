import { Schema } from 'mongoose';

/** The published catalog: what relays and agents may fetch. Only validated updates ever enter it. */
export interface CatalogEntry {
  _id: string;
  update: Record<string, unknown>;
  kind: string;
  component: string;
  platform?: string;
  version: string;
  signer: Record<string, unknown>;
  publishedAt: Date;
}
export const CATALOG_MODEL = 'CatalogEntry';
export const CatalogSchema = new Schema<CatalogEntry>(
  {
    _id: String,
    update: { type: Schema.Types.Mixed, required: true },
    kind: { type: String, required: true },
    component: { type: String, required: true },
    platform: String,
    version: { type: String, required: true },
    signer: { type: Schema.Types.Mixed, required: true },
    publishedAt: { type: Date, required: true },
  },
  { collection: 'catalog', versionKey: false, minimize: false },
).index({ kind: 1, component: 1, platform: 1 });

/** Read model of every update's progress through the pipeline, built from the update events. */
export interface UpdateView {
  _id: string;
  kind: string;
  component: string;
  platform?: string;
  version: string;
  sha256?: string;
  size?: number;
  state: string;
  rank: number;
  rejection?: { stage: string; code: string; reason: string };
  signer?: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}
export const UPDATE_VIEW_MODEL = 'UpdateView';
export const UpdateViewSchema = new Schema<UpdateView>(
  {
    _id: String,
    kind: String,
    component: String,
    platform: String,
    version: String,
    sha256: String,
    size: Number,
    state: { type: String, required: true },
    rank: { type: Number, required: true },
    rejection: { type: Schema.Types.Mixed },
    signer: { type: Schema.Types.Mixed },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'update_views', versionKey: false },
)
  .index({ state: 1, createdAt: -1 })
  .index({ kind: 1, component: 1, createdAt: -1 });

/** One line of an update's history; its id is the CloudEvent id, so a redelivery adds nothing. */
export interface UpdateEventRecord {
  _id: string;
  updateId: string;
  type: string;
  state: string;
  time: string;
  source: string;
}
export const UPDATE_EVENT_MODEL = 'UpdateEvent';
export const UpdateEventSchema = new Schema<UpdateEventRecord>(
  {
    _id: String,
    updateId: { type: String, required: true, index: true },
    type: { type: String, required: true },
    state: { type: String, required: true },
    time: { type: String, required: true },
    source: { type: String, required: true },
  },
  { collection: 'update_events', versionKey: false },
);

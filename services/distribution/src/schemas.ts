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

/** The listing copy of one update's view (the view itself is in the `update_views` KV bucket). */
export interface UpdateViewDoc {
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
  /** The KV revision this copy was made from. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}
export const UPDATE_VIEW_MODEL = 'UpdateView';
export const UpdateViewSchema = new Schema<UpdateViewDoc>(
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
    revision: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'update_views', versionKey: false },
)
  .index({ state: 1, createdAt: -1 })
  .index({ kind: 1, component: 1, createdAt: -1 });

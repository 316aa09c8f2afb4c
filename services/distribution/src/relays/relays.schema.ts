import { Schema } from 'mongoose';

/** One relay as it last reported itself (`relays`, keyed by relay id; latest seenAt wins). */
export interface RelayDoc {
  _id: string;
  /** RELAY_GROUP as the relay reports it; an operator's assignment overrides it. */
  reportedGroup: string;
  platform: string;
  version: string;
  url?: string;
  holds: string[];
  merkleRoot?: string;
  cacheBytes?: number;
  cacheMaxBytes?: number;
  seenAt: Date;
  /** `seenAt` + content digest: a write only ever replaces a document of a lower rank. */
  rank: string;
}
export const RELAY_MODEL = 'Relay';
export const RelaySchema = new Schema<RelayDoc>(
  {
    _id: String,
    reportedGroup: { type: String, required: true },
    platform: { type: String, required: true },
    version: { type: String, required: true },
    url: String,
    holds: { type: [String], required: true },
    merkleRoot: String,
    cacheBytes: Number,
    cacheMaxBytes: Number,
    seenAt: { type: Date, required: true },
    rank: { type: String, required: true },
  },
  { collection: 'relays', versionKey: false, minimize: false },
);

/** A relay group (`relay_groups`, keyed by name; insert-once). */
export interface RelayGroupDoc {
  _id: string;
  description?: string;
  createdAt: Date;
  createdBy: string;
}
export const RELAY_GROUP_MODEL = 'RelayGroup';
export const RelayGroupDocSchema = new Schema<RelayGroupDoc>(
  {
    _id: String,
    description: String,
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: 'relay_groups', versionKey: false },
);

/** An operator's choice of group for a relay (`relay_assignments`, keyed by relay id). */
export interface RelayAssignmentDoc {
  _id: string;
  group: string;
  by: string;
  at: Date;
}
export const RELAY_ASSIGNMENT_MODEL = 'RelayAssignment';
export const RelayAssignmentSchema = new Schema<RelayAssignmentDoc>(
  {
    _id: String,
    group: { type: String, required: true },
    by: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'relay_assignments', versionKey: false },
);

/** One update at one relay (`relay_update_states`, `_id` = `<updateId>:<relayId>`). */
export interface RelayUpdateStateDoc {
  _id: string;
  updateId: string;
  relayId: string;
  state: 'pending' | 'failed' | 'relayed';
  /** relayStateRank: replaced only by a higher one, so `relayed` is never undone. */
  rank: number;
  at: Date;
  code?: string;
  attempt?: number;
}
export const RELAY_UPDATE_STATE_MODEL = 'RelayUpdateState';
export const RelayUpdateStateSchema = new Schema<RelayUpdateStateDoc>(
  {
    _id: String,
    updateId: { type: String, required: true },
    relayId: { type: String, required: true },
    state: { type: String, required: true },
    rank: { type: Number, required: true },
    at: { type: Date, required: true },
    code: String,
    attempt: Number,
  },
  { collection: 'relay_update_states', versionKey: false },
);

/** A withdrawn update (`withdrawn_updates`, keyed by update id; insert-once, never removed). */
export interface WithdrawnDoc {
  _id: string;
  code: string;
  reason: string;
  at: Date;
}
export const WITHDRAWN_MODEL = 'WithdrawnUpdate';
export const WithdrawnSchema = new Schema<WithdrawnDoc>(
  {
    _id: String,
    code: { type: String, required: true },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'withdrawn_updates', versionKey: false },
);

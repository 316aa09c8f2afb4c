import { Schema } from 'mongoose';

/**
 * One computer's place in a rollout, `_id = <rolloutId>:<computerId>`, written once at creation:
 * an agent's assignment finds its wave by `_id` alone.
 */
export interface RolloutMemberDoc {
  _id: string;
  rolloutId: string;
  computerId: string;
  wave: number;
  kind: 'agents' | 'relays';
}
export const ROLLOUT_MEMBER_MODEL = 'RolloutMember';
export const RolloutMemberSchema = new Schema<RolloutMemberDoc>(
  {
    _id: String,
    rolloutId: { type: String, required: true },
    computerId: { type: String, required: true },
    wave: { type: Number, required: true },
    kind: { type: String, required: true },
  },
  { collection: 'rollout_members', versionKey: false },
);

/** The members of one wave, `_id = <rolloutId>:<wave>`, so the tick reads a wave by `_id`. */
export interface RolloutWaveDoc {
  _id: string;
  members: string[];
}
export const ROLLOUT_WAVE_MODEL = 'RolloutWave';
export const RolloutWaveSchema = new Schema<RolloutWaveDoc>(
  { _id: String, members: { type: [String], required: true } },
  { collection: 'rollout_waves', versionKey: false },
);

/**
 * What became of one agent in one rollout, `_id = <rolloutId>:<agentId>`: inserted once with the
 * first outcome seen; a `failed` one may later become `succeeded` (a retry that worked), never the
 * other way round.
 */
export interface RolloutOutcomeDoc {
  _id: string;
  state: 'succeeded' | 'failed';
  at: Date;
}
export const ROLLOUT_OUTCOME_MODEL = 'RolloutOutcome';
export const RolloutOutcomeSchema = new Schema<RolloutOutcomeDoc>(
  { _id: String, state: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'rollout_outcomes', versionKey: false },
);

/** A relay verified and cached an update, `_id = <updateId>:<relayId>` (from `updates.v1.relayed`). */
export interface RelayedDoc {
  _id: string;
  at: Date;
}
export const ROLLOUT_RELAYED_MODEL = 'RolloutRelayed';
export const RolloutRelayedSchema = new Schema<RelayedDoc>(
  { _id: String, at: { type: Date, required: true } },
  { collection: 'rollout_relayed', versionKey: false },
);

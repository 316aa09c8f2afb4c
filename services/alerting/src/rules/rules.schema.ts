import type { RuleUpdate } from '@sup/domain';
import { Schema } from 'mongoose';

/**
 * Alerting's own projection of the catalog events its rules read (durable `rules`): it never
 * reads another service's collections. Every collection is keyed by `_id` and written
 * insert-once. Computers' latest reports are kept in the KV bucket `alert_rules_state` instead.
 */

/** A published update (`_id` = update id); its withdrawal is a document of its own. */
export type RuleUpdateDoc = Omit<RuleUpdate, 'updateId' | 'withdrawnAt'> & { _id: string };

/** A withdrawal (`_id` = update id): apart from the update, so neither write modifies the other. */
export interface RuleWithdrawnDoc {
  _id: string;
  withdrawnAt: string;
}

/** A relay relayed an update (`_id` = `<updateId>:<relayId>`). */
export interface RuleRelayedDoc {
  _id: string;
  relayedAt: string;
}

export const RULE_UPDATE_MODEL = 'RuleUpdate';
export const RULE_WITHDRAWN_MODEL = 'RuleWithdrawn';
export const RULE_RELAYED_MODEL = 'RuleRelayed';

const plain = (collection: string) =>
  ({ collection, versionKey: false, minimize: false, strict: false }) as const;

export const RuleUpdateSchema = new Schema<RuleUpdateDoc>({ _id: String }, plain('rule_updates'));
export const RuleWithdrawnSchema = new Schema<RuleWithdrawnDoc>(
  { _id: String },
  plain('rule_withdrawn'),
);
export const RuleRelayedSchema = new Schema<RuleRelayedDoc>({ _id: String }, plain('rule_relayed'));

export const RULE_MODELS = [
  { name: RULE_UPDATE_MODEL, schema: RuleUpdateSchema },
  { name: RULE_WITHDRAWN_MODEL, schema: RuleWithdrawnSchema },
  { name: RULE_RELAYED_MODEL, schema: RuleRelayedSchema },
];

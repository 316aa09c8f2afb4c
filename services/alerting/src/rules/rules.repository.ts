import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { AlertStateRef, RuleUpdate } from '@sup/domain';
import { insertManyOnce, rawCollection } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { ALERT_MODEL, type AlertDoc } from '../alert.schema';
import {
  RULE_RELAYED_MODEL,
  RULE_UPDATE_MODEL,
  RULE_WITHDRAWN_MODEL,
  type RuleRelayedDoc,
  type RuleUpdateDoc,
  type RuleWithdrawnDoc,
} from './rules.schema';

/** Statements per bulk write: bounded, so one write never holds the database for long. */
const WRITE_CHUNK = 500;
/** Documents per round trip while the snapshot loads. */
const READ_BATCH = 10_000;

/** What the rules' projection in MongoDB holds besides the computers (which live in KV). */
export interface RulesCatalog {
  updates: RuleUpdate[];
  withdrawn: { updateId: string; withdrawnAt: string }[];
  /** `relayedKey(updateId, relayId)`. */
  relayed: string[];
}

/**
 * The rules' projection of publications, withdrawals and relay results, each insert-once by
 * `_id`: a redelivery or a second replica writes nothing new. Computers are not here: each one's
 * latest report is decided and kept in the KV bucket `alert_rules_state` (RuleComputerWinners),
 * which every replica watches (RulesFeed).
 */
@Injectable()
export class RulesRepository {
  constructor(
    @InjectModel(RULE_UPDATE_MODEL) private readonly updates: Model<RuleUpdateDoc>,
    @InjectModel(RULE_WITHDRAWN_MODEL) private readonly withdrawn: Model<RuleWithdrawnDoc>,
    @InjectModel(RULE_RELAYED_MODEL) private readonly relayed: Model<RuleRelayedDoc>,
    @InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertDoc>,
  ) {}

  writeUpdates = (docs: RuleUpdateDoc[]) => this.insertOnce(this.updates, docs);
  writeWithdrawn = (docs: RuleWithdrawnDoc[]) => this.insertOnce(this.withdrawn, docs);
  writeRelayed = (docs: RuleRelayedDoc[]) => this.insertOnce(this.relayed, docs);

  private async insertOnce<T extends { _id: string }>(model: Model<T>, docs: T[]): Promise<void> {
    for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
      await insertManyOnce(model, docs.slice(i, i + WRITE_CHUNK));
    }
  }

  /**
   * What the rules' feed loads once at start (RulesFeed), read with the driver (no hydration):
   * every publication, withdrawal and relay result, which UPDATES keeps for 30 days only.
   */
  async loadCatalog(): Promise<RulesCatalog> {
    const all = <T extends { _id: string }>(model: Model<T>, projection: object = {}) =>
      rawCollection(model).find({}, { projection, batchSize: READ_BATCH }).toArray() as Promise<
        T[]
      >;
    const [updates, withdrawn, relayed] = await Promise.all([
      all(this.updates),
      all(this.withdrawn),
      all(this.relayed, { _id: 1 }),
    ]);
    return {
      updates: updates.map(({ _id, ...u }) => ({ updateId: _id, ...u })),
      withdrawn: withdrawn.map(({ _id, withdrawnAt }) => ({ updateId: _id, withdrawnAt })),
      relayed: relayed.map((r) => r._id),
    };
  }

  /**
   * The open and acknowledged alerts of the given rules (from the listing copy): what an
   * evaluation may resolve. Not a hot path by `_id`: it runs once per evaluation over the alerts,
   * which are few beside the fleet.
   */
  async unresolved(rules: readonly string[]): Promise<AlertStateRef[]> {
    const docs = await rawCollection(this.alerts)
      .find(
        { rule: { $in: [...rules] }, state: { $ne: 'resolved' } },
        { projection: { _id: 1, rule: 1, subject: 1, state: 1 } },
      )
      .toArray();
    return docs.map((d) => ({ id: d._id, rule: d.rule, subject: d.subject, state: d.state }));
  }
}

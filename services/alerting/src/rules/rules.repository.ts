import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { AlertStateRef, RulesSnapshot } from '@sup/domain';
import { insertManyOnce, rawCollection } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { ALERT_MODEL, type AlertDoc } from '../alert.schema';
import {
  RULE_COMPUTER_MODEL,
  RULE_RELAYED_MODEL,
  RULE_UPDATE_MODEL,
  RULE_WITHDRAWN_MODEL,
  type RuleComputerDoc,
  type RuleRelayedDoc,
  type RuleUpdateDoc,
  type RuleWithdrawnDoc,
} from './rules.schema';

/** Statements per bulk write: bounded, so one write never holds the database for long. */
const WRITE_CHUNK = 500;
/** Documents per round trip while the snapshot loads. */
const READ_BATCH = 10_000;

/**
 * The rules' projection. Computers: latest report wins without a read-modify-write, as the fleet
 * read model does it (see services/distribution/src/fleet/fleet.repository.ts): insert-once by
 * `_id`, then for those that existed a conditional replace `{_id, rank < mine}`, atomic per
 * document on MongoDB. Everything else is insert-once by `_id`: a redelivery or a second replica
 * writes nothing new.
 */
@Injectable()
export class RulesRepository {
  constructor(
    @InjectModel(RULE_COMPUTER_MODEL) private readonly computers: Model<RuleComputerDoc>,
    @InjectModel(RULE_UPDATE_MODEL) private readonly updates: Model<RuleUpdateDoc>,
    @InjectModel(RULE_WITHDRAWN_MODEL) private readonly withdrawn: Model<RuleWithdrawnDoc>,
    @InjectModel(RULE_RELAYED_MODEL) private readonly relayed: Model<RuleRelayedDoc>,
    @InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertDoc>,
  ) {}

  async writeComputers(docs: readonly RuleComputerDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
      const chunk = docs.slice(i, i + WRITE_CHUNK);
      const existed = await insertManyOnce(this.computers, [...chunk]);
      const replace = chunk.filter((d) => existed.has(d._id));
      if (replace.length === 0) continue;
      await rawCollection(this.computers).bulkWrite(
        replace.map((doc) => ({
          replaceOne: { filter: { _id: doc._id, rank: { $lt: doc.rank } }, replacement: doc },
        })),
        { ordered: false },
      );
    }
  }

  writeUpdates = (docs: RuleUpdateDoc[]) => this.insertOnce(this.updates, docs);
  writeWithdrawn = (docs: RuleWithdrawnDoc[]) => this.insertOnce(this.withdrawn, docs);
  writeRelayed = (docs: RuleRelayedDoc[]) => this.insertOnce(this.relayed, docs);

  private async insertOnce<T extends { _id: string }>(model: Model<T>, docs: T[]): Promise<void> {
    for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
      await insertManyOnce(model, docs.slice(i, i + WRITE_CHUNK));
    }
  }

  /** The whole picture, read with the driver (no hydration): 100,000 computers load in one go. */
  async loadSnapshot(): Promise<RulesSnapshot> {
    const all = <T extends { _id: string }>(model: Model<T>, projection: object = {}) =>
      rawCollection(model).find({}, { projection, batchSize: READ_BATCH }).toArray() as Promise<
        T[]
      >;
    const [computers, updates, withdrawn, relayed] = await Promise.all([
      all(this.computers, { rank: 0 }),
      all(this.updates),
      all(this.withdrawn),
      all(this.relayed, { _id: 1 }),
    ]);
    const withdrawnAt = new Map(withdrawn.map((w) => [w._id, w.withdrawnAt]));
    return {
      computers: computers.map(({ _id, ...c }) => ({ id: _id, ...c })),
      updates: updates.map(({ _id, ...u }) => {
        const at = withdrawnAt.get(_id);
        return { updateId: _id, ...u, ...(at ? { withdrawnAt: at } : {}) };
      }),
      relayed: new Set(relayed.map((r) => r._id)),
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

import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FleetReported } from '@sup/contracts';
import type { AlertStateRef, KeyedReadModel, RulesSnapshot } from '@sup/domain';
import { insertManyOnce, rawCollection, replaceAllById } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { ALERT_MODEL, type AlertDoc } from '../alert.schema';
import type { RuleComputerEntry } from './rule-computer-winners';
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
 * The rules' projection. Computers: latest report wins as in the fleet read model — decided in
 * the KV bucket `alert_rules_state` (RuleComputerWinners) and written through here by `_id` only
 * (`writeLatest` of libs/domain re-checks; on FerretDB a filtered replace would scan). Everything
 * else is insert-once by `_id`: a redelivery or a second replica writes nothing new.
 */
@Injectable()
export class RulesRepository implements KeyedReadModel<RuleComputerEntry> {
  constructor(
    @InjectModel(RULE_COMPUTER_MODEL) private readonly computers: Model<RuleComputerDoc>,
    @InjectModel(RULE_UPDATE_MODEL) private readonly updates: Model<RuleUpdateDoc>,
    @InjectModel(RULE_WITHDRAWN_MODEL) private readonly withdrawn: Model<RuleWithdrawnDoc>,
    @InjectModel(RULE_RELAYED_MODEL) private readonly relayed: Model<RuleRelayedDoc>,
    @InjectModel(ALERT_MODEL) private readonly alerts: Model<AlertDoc>,
  ) {}

  replaceAll(
    entries: readonly { key: string; value: RuleComputerEntry }[],
  ): Promise<ReadonlySet<string>> {
    // The key is the computer id, so the document's `_id`.
    return replaceAllById(
      this.computers,
      entries.map(({ value }) => computerDoc(value.reported, value.rank)),
      WRITE_CHUNK,
    );
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

function computerDoc({ report }: FleetReported, rank: string): RuleComputerDoc {
  return {
    _id: report.id,
    role: report.role,
    platform: report.platform,
    version: report.version,
    relayGroup: report.relayGroup,
    securityUpdates: report.securityUpdates,
    seenAt: new Date(report.seenAt).toISOString(),
    rank,
    ...(report.relay
      ? { relay: { holds: report.relay.holds, merkleRoot: report.relay.merkleRoot } }
      : {}),
  };
}

import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { FleetReported } from '@sup/contracts';
import { insertManyOnce, rawCollection } from '@sup/service-kit';
import type { Filter } from 'mongodb';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from '../schemas';
import {
  RELAY_ASSIGNMENT_MODEL,
  RELAY_GROUP_MODEL,
  RELAY_MODEL,
  RELAY_UPDATE_STATE_MODEL,
  WITHDRAWN_MODEL,
  type RelayAssignmentDoc,
  type RelayDoc,
  type RelayGroupDoc,
  type RelayUpdateStateDoc,
  type WithdrawnDoc,
} from './relays.schema';

const WRITE_CHUNK = 500;

/**
 * Persistence of the relays' control plane. Every write is insert-once by `_id` or a conditional
 * replace by `_id` on a rank that only grows (as the fleet read model does; see
 * fleet.repository.ts): correct with two replicas and on FerretDB, no read-modify-write.
 * Lookups on hot paths are by `_id`; the listings scan collections that hold one document per
 * relay, group or withdrawn update.
 */
@Injectable()
export class RelaysRepository {
  constructor(
    @InjectModel(RELAY_MODEL) private readonly relays: Model<RelayDoc>,
    @InjectModel(RELAY_GROUP_MODEL) private readonly groups: Model<RelayGroupDoc>,
    @InjectModel(RELAY_ASSIGNMENT_MODEL) private readonly assignments: Model<RelayAssignmentDoc>,
    @InjectModel(RELAY_UPDATE_STATE_MODEL) private readonly states: Model<RelayUpdateStateDoc>,
    @InjectModel(WITHDRAWN_MODEL) private readonly withdrawn: Model<WithdrawnDoc>,
    @InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>,
  ) {}

  /** Latest report per relay wins: insert-once, then replace only a lower rank. */
  async writeReports(reports: readonly { reported: FleetReported; rank: string }[]): Promise<void> {
    for (let i = 0; i < reports.length; i += WRITE_CHUNK) {
      const docs = reports
        .slice(i, i + WRITE_CHUNK)
        .map(({ reported, rank }) => relayDoc(reported, rank));
      await this.insertThenReplace(this.relays, docs, (d) => ({
        _id: d._id,
        rank: { $lt: d.rank },
      }));
    }
  }

  /** (update, relay) states: a state replaces only a lower-ranked one (`relayed` is final). */
  async writeStates(docs: readonly RelayUpdateStateDoc[]): Promise<void> {
    for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
      await this.insertThenReplace(this.states, docs.slice(i, i + WRITE_CHUNK), (d) => ({
        _id: d._id,
        rank: { $lt: d.rank },
      }));
    }
  }

  private async insertThenReplace<T extends { _id: string }>(
    model: Model<T>,
    docs: readonly T[],
    filter: (doc: T) => Filter<T>,
  ): Promise<void> {
    const existed = await insertManyOnce(model, [...docs]);
    const replace = docs.filter((d) => existed.has(d._id));
    if (replace.length === 0) return;
    await rawCollection(model).bulkWrite(
      replace.map((doc) => ({ replaceOne: { filter: filter(doc), replacement: doc } })),
      { ordered: false },
    );
  }

  /** Creates the groups that do not exist yet; true per name that was created now. */
  async createGroups(docs: RelayGroupDoc[]): Promise<Set<string>> {
    const existed = await insertManyOnce(this.groups, docs);
    return new Set(docs.map((d) => d._id).filter((id) => !existed.has(id)));
  }

  group(name: string): Promise<RelayGroupDoc | null> {
    return this.groups.findById(name).lean<RelayGroupDoc>().exec();
  }

  allGroups(): Promise<RelayGroupDoc[]> {
    return this.groups.find({}).sort({ _id: 1 }).lean<RelayGroupDoc[]>().exec();
  }

  relay(relayId: string): Promise<RelayDoc | null> {
    return this.relays.findById(relayId).lean<RelayDoc>().exec();
  }

  allRelays(): Promise<RelayDoc[]> {
    return this.relays.find({}).sort({ _id: 1 }).lean<RelayDoc[]>().exec();
  }

  assignment(relayId: string): Promise<RelayAssignmentDoc | null> {
    return this.assignments.findById(relayId).lean<RelayAssignmentDoc>().exec();
  }

  allAssignments(): Promise<RelayAssignmentDoc[]> {
    return this.assignments.find({}).lean<RelayAssignmentDoc[]>().exec();
  }

  /** The operator's last word wins: a plain replace by `_id` (an assignment has no history to merge). */
  async assign(doc: RelayAssignmentDoc): Promise<void> {
    await rawCollection(this.assignments).replaceOne({ _id: doc._id }, doc, { upsert: true });
  }

  state(id: string): Promise<RelayUpdateStateDoc | null> {
    return this.states.findById(id).lean<RelayUpdateStateDoc>().exec();
  }

  /** Insert-once: the first reason stands. */
  async markWithdrawn(doc: WithdrawnDoc): Promise<void> {
    await insertManyOnce(this.withdrawn, [doc]);
  }

  async isWithdrawn(updateId: string): Promise<boolean> {
    return (await this.withdrawn.findById(updateId, { _id: 1 }).lean().exec()) !== null;
  }

  async withdrawnIds(): Promise<Set<string>> {
    const docs = await this.withdrawn.find({}, { _id: 1 }).lean<{ _id: string }[]>().exec();
    return new Set(docs.map((d) => d._id));
  }

  published(updateId: string): Promise<CatalogEntry | null> {
    return this.catalog.findById(updateId).lean<CatalogEntry>().exec();
  }

  /** The whole published catalog (one document per published update). */
  allPublished(): Promise<CatalogEntry[]> {
    return this.catalog.find({}).lean<CatalogEntry[]>().exec();
  }
}

function relayDoc({ report }: FleetReported, rank: string): RelayDoc {
  return {
    _id: report.id,
    reportedGroup: report.relayGroup,
    platform: report.platform,
    version: report.version,
    ...(report.relay
      ? {
          url: report.relay.url,
          merkleRoot: report.relay.merkleRoot,
          cacheBytes: report.relay.cacheBytes,
          cacheMaxBytes: report.relay.cacheMaxBytes,
        }
      : {}),
    holds: report.relay?.holds ?? [],
    seenAt: new Date(report.seenAt),
    rank,
  };
}

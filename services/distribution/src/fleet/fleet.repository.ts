import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Computer, FleetReported, ListFleetQuery } from '@sup/contracts';
import { versionLine, type ComponentVersionCount } from '@sup/domain';
import { insertManyOnce, rawCollection } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from '../schemas';
import { COMPUTER_MODEL, type ComputerDoc } from './fleet.schema';

/** Statements per bulk write: bounded, so one write never holds the database for long. */
const WRITE_CHUNK = 500;

export interface RankedReport {
  reported: FleetReported;
  rank: string;
}

/**
 * The fleet read model. Latest-wins without a read-modify-write: a computer's document is created
 * once (insert by `_id`) and after that only ever replaced by a conditional replace,
 * `{_id, rank < mine}`, which MongoDB applies atomically to the one document. Per chunk:
 *
 * 1. Every report is inserted, insert-once by `_id`: a computer seen for the first time gets its
 *    document; for one that exists (another replica or an earlier batch made it) the insert
 *    fails as a duplicate and nothing is written.
 * 2. Those get the conditional replace (no upsert): a document of a lower rank is replaced; one
 *    of the same rank (the same report again) or a higher one (a newer report) is left alone,
 *    so an older report never overwrites a newer one. Documents are never deleted, so a
 *    duplicate in step 1 means the document is there for step 2.
 *
 * Two replicas, any interleaving: each step is atomic per document and ranks only grow, so the
 * document ends as the report of the highest rank either of them saw. No upsert on a filtered
 * replace, whose "no match" and "exists but newer" both end in a duplicate-key error that some
 * servers (FerretDB) report without running the rest of an unordered batch.
 */
@Injectable()
export class FleetRepository {
  constructor(
    @InjectModel(COMPUTER_MODEL) private readonly computers: Model<ComputerDoc>,
    @InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>,
  ) {}

  async write(reports: readonly RankedReport[]): Promise<void> {
    for (let i = 0; i < reports.length; i += WRITE_CHUNK) {
      await this.writeChunk(reports.slice(i, i + WRITE_CHUNK));
    }
  }

  private async writeChunk(reports: readonly RankedReport[]): Promise<void> {
    const docs = reports.map(({ reported, rank }) => toDoc(reported, rank));
    // Not a lookup of which exist first: FerretDB scans the collection for `_id: {$in}`.
    const existed = await insertManyOnce(this.computers, docs);
    const replace = docs.filter((d) => existed.has(d._id));
    if (replace.length === 0) return;
    await rawCollection(this.computers).bulkWrite(
      replace.map((doc) => ({
        replaceOne: { filter: { _id: doc._id, rank: { $lt: doc.rank } }, replacement: doc },
      })),
      { ordered: false },
    );
  }

  async page(query: ListFleetQuery): Promise<{ docs: ComputerDoc[]; total: number }> {
    const filter: Record<string, string> = {};
    if (query.role) filter.role = query.role;
    if (query.platform) filter.platform = query.platform;
    if (query.group) filter.relayGroup = query.group;
    if (query.version) filter.version = query.version;
    const [docs, total] = await Promise.all([
      this.computers
        .find(filter)
        .sort({ _id: 1 })
        .skip(query.offset)
        .limit(query.limit)
        .lean<ComputerDoc[]>()
        .exec(),
      this.computers.countDocuments(filter).exec(),
    ]);
    return { docs, total };
  }

  /** Computers per role, platform and line: grouped in the database, one row per group. */
  async countLines(): Promise<{ role: string; platform: string; line: string; count: number }[]> {
    const rows = await this.computers
      .aggregate<{ _id: { role: string; platform: string; line: string }; count: number }>([
        {
          $group: {
            _id: { role: '$role', platform: '$platform', line: '$line' },
            count: { $sum: 1 },
          },
        },
      ])
      .exec();
    return rows.map((r) => ({ ...r._id, count: r.count }));
  }

  /** Computers per reported security update version, per component. */
  async countSecurityVersions(): Promise<ComponentVersionCount[]> {
    const rows = await this.computers
      .aggregate<{ _id: { component: string; version: string }; count: number }>([
        { $unwind: '$securityUpdates' },
        {
          $group: {
            _id: { component: '$securityUpdates.component', version: '$securityUpdates.version' },
            count: { $sum: 1 },
          },
        },
      ])
      .exec();
    return rows.map((r) => ({ ...r._id, count: r.count }));
  }

  async total(): Promise<number> {
    return this.computers.estimatedDocumentCount().exec();
  }

  /** Every published security update's component and version (the catalog holds only published ones). */
  async publishedSecurityUpdates(): Promise<{ component: string; version: string }[]> {
    return this.catalog
      .find({ kind: 'security' }, { _id: 0, component: 1, version: 1 })
      .lean<{ component: string; version: string }[]>()
      .exec();
  }
}

function toDoc({ report, receivedAt }: FleetReported, rank: string): ComputerDoc {
  return {
    _id: report.id,
    role: report.role,
    platform: report.platform,
    version: report.version,
    line: versionLine(report.version),
    relayGroup: report.relayGroup,
    securityUpdates: Object.entries(report.securityUpdates).map(([component, version]) => ({
      component,
      version,
    })),
    seenAt: new Date(report.seenAt),
    rank,
    receivedAt: new Date(receivedAt),
  };
}

export function toComputer(doc: ComputerDoc): Computer {
  return {
    id: doc._id,
    role: doc.role as Computer['role'],
    platform: doc.platform,
    version: doc.version,
    line: doc.line,
    relayGroup: doc.relayGroup,
    securityUpdates: Object.fromEntries(doc.securityUpdates.map((s) => [s.component, s.version])),
    seenAt: doc.seenAt.toISOString(),
    receivedAt: doc.receivedAt.toISOString(),
  };
}

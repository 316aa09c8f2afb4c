import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Computer, FleetReported, ListFleetQuery } from '@sup/contracts';
import { versionLine, type ComponentVersionCount, type KeyedReadModel } from '@sup/domain';
import { replaceAllById } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { CATALOG_MODEL, type CatalogEntry } from '../schemas';
import type { FleetEntry } from './fleet-winners';
import { COMPUTER_MODEL, type ComputerDoc } from './fleet.schema';

/**
 * The fleet read model: one document per computer, written only by `_id` (`replaceOne` with
 * upsert, the `_id` index serves it on FerretDB too). Which report a document holds is decided
 * before, in the `fleet_latest` KV bucket (FleetWinners); `writeLatest` in libs/domain writes the
 * winners through and re-checks them, which is why this write needs no condition of its own.
 */
@Injectable()
export class FleetRepository implements KeyedReadModel<FleetEntry> {
  constructor(
    @InjectModel(COMPUTER_MODEL) private readonly computers: Model<ComputerDoc>,
    @InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>,
  ) {}

  replaceAll(entries: readonly { key: string; value: FleetEntry }[]): Promise<ReadonlySet<string>> {
    // The key is the computer id, so the document's `_id`.
    return replaceAllById(
      this.computers,
      entries.map(({ value }) => toDoc(value.reported, value.rank)),
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

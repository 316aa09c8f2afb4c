import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { compareSecurityVersions } from '@sup/domain';
import type { Model } from 'mongoose';
import { COMPUTER_MODEL, type ComputerDoc } from '../fleet/fleet.schema';
import { CATALOG_MODEL, type CatalogEntry } from '../schemas';

/** A relay as rollouts and assignments need it (RelayDirectory.relaysOfGroup's shape). */
export interface RelaySighting {
  relayId: string;
  url?: string;
  version?: string;
  platform?: string;
  lastSeen?: string;
}

/** What rollouts ask of the relays' control plane (services/distribution/src/relays). */
export interface RelayLookup {
  relaysOfGroup(group: string): Promise<RelaySighting[]>;
  groupExists(group: string): Promise<boolean>;
}
export const RELAY_LOOKUP = Symbol('RelayLookup');

export interface SecurityTarget {
  component: string;
  updateId: string;
  version: string;
  sha256: string;
  size: number;
}
/** The security update per component agents should run (SecurityChannel.current()). */
export interface SecurityTargets {
  current(): Promise<SecurityTarget[]>;
}
export const SECURITY_TARGETS = Symbol('SecurityTargets');

/**
 * Relays from the fleet read model: the relays that report the group. Used until the relays
 * module's RelayDirectory (operator group assignments, relay URLs) is wired in its place.
 */
@Injectable()
export class FleetRelayLookup implements RelayLookup {
  constructor(@InjectModel(COMPUTER_MODEL) private readonly fleet: Model<ComputerDoc>) {}

  async relaysOfGroup(group: string): Promise<RelaySighting[]> {
    const docs = await this.fleet
      .find({ role: 'relay', relayGroup: group }, { _id: 1, version: 1, platform: 1, seenAt: 1 })
      .limit(1_000)
      .lean<ComputerDoc[]>()
      .exec();
    return docs.map((d) => ({
      relayId: d._id,
      version: d.version,
      platform: d.platform,
      lastSeen: d.seenAt.toISOString(),
    }));
  }

  async groupExists(group: string): Promise<boolean> {
    return (await this.fleet.exists({ relayGroup: group }).exec()) !== null;
  }
}

/**
 * The newest published security update per component, from the catalog. Used until the relays
 * module's SecurityChannel (which also knows rollback pins) is wired in its place.
 */
@Injectable()
export class CatalogSecurityTargets implements SecurityTargets {
  constructor(@InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>) {}

  async current(): Promise<SecurityTarget[]> {
    const entries = await this.catalog.find({ kind: 'security' }).lean<CatalogEntry[]>().exec();
    const newest = new Map<string, CatalogEntry>();
    for (const e of entries) {
      const seen = newest.get(e.component);
      if (!seen || compareSecurityVersions(e.version, seen.version) > 0) newest.set(e.component, e);
    }
    return [...newest.values()]
      .map((e) => {
        const artifact = (e.update as { artifact: { sha256: string; size: number } }).artifact;
        return {
          component: e.component,
          updateId: e._id,
          version: e.version,
          sha256: artifact.sha256,
          size: artifact.size,
        };
      })
      .sort((a, b) => (a.component < b.component ? -1 : 1));
  }
}

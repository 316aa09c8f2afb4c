import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { insertManyOnce, mapLimited, rawCollection } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { COMPUTER_MODEL, type ComputerDoc } from '../fleet/fleet.schema';
import { CATALOG_MODEL, type CatalogEntry } from '../schemas';
import {
  ROLLOUT_MEMBER_MODEL,
  ROLLOUT_OUTCOME_MODEL,
  ROLLOUT_RELAYED_MODEL,
  ROLLOUT_WAVE_MODEL,
  type RelayedDoc,
  type RolloutMemberDoc,
  type RolloutOutcomeDoc,
  type RolloutWaveDoc,
} from './rollouts.schema';

/** Lookups by `_id` at once: enough to hide latency, few enough not to crowd the database. */
const LOOKUPS_IN_FLIGHT = 32;

export interface OutcomeWrite {
  rolloutId: string;
  agentId: string;
  state: 'succeeded' | 'failed';
  at: Date;
}

/**
 * Rollouts' documents in MongoDB. Every write is insert-once by `_id` or a conditional replace of
 * one document; every read on the hot path is by `_id` (FerretDB scans any other filter). The
 * fleet and catalog collections are read only (the fleet module and the publisher own them).
 */
@Injectable()
export class RolloutsRepository {
  constructor(
    @InjectModel(ROLLOUT_MEMBER_MODEL) private readonly members: Model<RolloutMemberDoc>,
    @InjectModel(ROLLOUT_WAVE_MODEL) private readonly waves: Model<RolloutWaveDoc>,
    @InjectModel(ROLLOUT_OUTCOME_MODEL) private readonly outcomes: Model<RolloutOutcomeDoc>,
    @InjectModel(ROLLOUT_RELAYED_MODEL) private readonly relayed: Model<RelayedDoc>,
    @InjectModel(COMPUTER_MODEL) private readonly fleet: Model<ComputerDoc>,
    @InjectModel(CATALOG_MODEL) private readonly catalog: Model<CatalogEntry>,
  ) {}

  async writePlan(rolloutId: string, waves: { kind: 'agents' | 'relays'; members: string[] }[]) {
    await insertManyOnce(
      this.waves,
      waves.map((w, i) => ({ _id: `${rolloutId}:${i}`, members: w.members })),
    );
    const members = waves.flatMap((w, wave) =>
      w.members.map((computerId) => ({
        _id: `${rolloutId}:${computerId}`,
        rolloutId,
        computerId,
        wave,
        kind: w.kind,
      })),
    );
    for (let i = 0; i < members.length; i += 1_000)
      await insertManyOnce(this.members, members.slice(i, i + 1_000));
  }

  async waveMembers(rolloutId: string, wave: number): Promise<string[]> {
    const doc = await this.waves.findById(`${rolloutId}:${wave}`).lean<RolloutWaveDoc>().exec();
    return doc?.members ?? [];
  }

  async member(rolloutId: string, computerId: string): Promise<RolloutMemberDoc | undefined> {
    const doc = await this.members
      .findById(`${rolloutId}:${computerId}`)
      .lean<RolloutMemberDoc>()
      .exec();
    return doc ?? undefined;
  }

  /**
   * Records outcomes: insert-once, then `failed` -> `succeeded` by a conditional replace of the
   * one document. A success is never turned back into a failure, in any order of arrival.
   */
  async writeOutcomes(writes: readonly OutcomeWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const docs = writes.map((w) => ({
      _id: `${w.rolloutId}:${w.agentId}`,
      state: w.state,
      at: w.at,
    }));
    const existed = await insertManyOnce(this.outcomes, docs);
    const upgrades = docs.filter((d) => d.state === 'succeeded' && existed.has(d._id));
    if (upgrades.length === 0) return;
    await rawCollection(this.outcomes).bulkWrite(
      upgrades.map((doc) => ({
        replaceOne: { filter: { _id: doc._id, state: 'failed' }, replacement: doc },
      })),
      { ordered: false },
    );
  }

  /** Succeeded and failed members of a rollout among `agentIds`, one `_id` lookup each. */
  async countOutcomes(
    rolloutId: string,
    agentIds: readonly string[],
  ): Promise<{ succeeded: number; failed: number }> {
    const states = await mapLimited([...agentIds], LOOKUPS_IN_FLIGHT, async (id) => {
      const doc = await this.outcomes
        .findById(`${rolloutId}:${id}`, { state: 1 })
        .lean<Pick<RolloutOutcomeDoc, 'state'>>()
        .exec();
      return doc?.state;
    });
    return {
      succeeded: states.filter((s) => s === 'succeeded').length,
      failed: states.filter((s) => s === 'failed').length,
    };
  }

  async recordRelayed(pairs: readonly { updateId: string; relayId: string; at: Date }[]) {
    await insertManyOnce(
      this.relayed,
      pairs.map((p) => ({ _id: `${p.updateId}:${p.relayId}`, at: p.at })),
    );
  }

  /** The relays of `relayIds` that have not relayed `updateId`. */
  async notRelayed(updateId: string, relayIds: readonly string[]): Promise<string[]> {
    const held = await mapLimited(
      [...relayIds],
      LOOKUPS_IN_FLIGHT,
      async (relayId) =>
        (await this.relayed.exists({ _id: `${updateId}:${relayId}` }).exec()) !== null,
    );
    return relayIds.filter((_, i) => !held[i]);
  }

  /** The fleet documents of these computers, by `_id`. */
  async computers(ids: readonly string[]): Promise<(ComputerDoc | undefined)[]> {
    return mapLimited([...ids], LOOKUPS_IN_FLIGHT, async (id) => {
      const doc = await this.fleet.findById(id).lean<ComputerDoc>().exec();
      return doc ?? undefined;
    });
  }

  /**
   * The agents a rollout targets, from the fleet read model (once, at creation; the fleet's
   * relayGroup index serves the group filter). At most `limit` are returned.
   */
  async targetAgents(
    target: { platform: string; group?: string; agentIds?: string[] },
    limit: number,
  ): Promise<ComputerDoc[]> {
    const filter: Record<string, unknown> = { role: 'agent', platform: target.platform };
    if (target.group) filter.relayGroup = target.group;
    if (target.agentIds) filter._id = { $in: target.agentIds };
    return this.fleet
      .find(filter, { _id: 1, version: 1, relayGroup: 1 })
      .limit(limit)
      .lean<ComputerDoc[]>()
      .exec();
  }

  async catalogEntry(updateId: string): Promise<CatalogEntry | undefined> {
    return (await this.catalog.findById(updateId).lean<CatalogEntry>().exec()) ?? undefined;
  }

  /** Published software builds of a component for a platform (a handful per platform). */
  async publishedBuilds(component: 'agent' | 'relay', platform: string): Promise<CatalogEntry[]> {
    return this.catalog
      .find({ kind: 'software', component, platform })
      .lean<CatalogEntry[]>()
      .exec();
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { RelayView, UpdateRelayEntry } from '@sup/contracts';
import { contentDrift, merkleRoot, pendingUpdates, relayStateId } from '@sup/domain';
import { mapLimited } from '@sup/service-kit';
import { PublishedUpdates, type PublishedUpdate } from './published-updates';
import { RelaysRepository } from './relays.repository';
import type { RelayDoc } from './relays.schema';
import { SecurityChannel } from './security-channel';
import { SOFTWARE_TARGETS, type SoftwareTargetsPort } from './software-targets';

/** `_id` lookups in flight at once while a listing is assembled. */
const LOOKUPS = 32;

export interface GroupRelay {
  relayId: string;
  url?: string;
  version: string;
  platform: string;
  lastSeen: string;
}

/**
 * Relays as the control plane knows them: their effective group (the operator's assignment, else
 * the group the relay reports), what their group must hold, and how far each is from it.
 *
 * Pending is cheap by construction: the required set of a group is small (one security update
 * per component plus the builds its rollouts target); an update counts as done when the relay's
 * last report holds its digest, and only the rest are looked up by `_id` in the state documents
 * (a `relayed` result that arrived after the report). A relay in sync therefore costs no lookup.
 */
@Injectable()
export class RelayDirectory {
  private readonly logger = new Logger(RelayDirectory.name);

  constructor(
    private readonly repository: RelaysRepository,
    private readonly published: PublishedUpdates,
    private readonly security: SecurityChannel,
    private readonly modules: ModuleRef,
  ) {}

  /** Relays whose effective group is `group`. */
  async relaysOfGroup(group: string): Promise<GroupRelay[]> {
    const [relays, groups] = await Promise.all([
      this.repository.allRelays(),
      this.assignedGroups(),
    ]);
    return relays
      .filter((r) => (groups.get(r._id) ?? r.reportedGroup) === group)
      .map((r) => ({
        relayId: r._id,
        ...(r.url ? { url: r.url } : {}),
        version: r.version,
        platform: r.platform,
        lastSeen: r.seenAt.toISOString(),
      }));
  }

  /** Whether the group exists (created by an operator or named by a relay's report). */
  async groupExists(group: string): Promise<boolean> {
    return (await this.repository.group(group)) !== null;
  }

  /** Each known relay's state for one update: those whose group must hold it, and any that reported on it. */
  async relayStates(updateId: string): Promise<UpdateRelayEntry[]> {
    const [relays, groups] = await Promise.all([
      this.repository.allRelays(),
      this.assignedGroups(),
    ]);
    const requiredByGroup = new Map<string, boolean>();
    const entries = await mapLimited(
      relays,
      LOOKUPS,
      async (relay): Promise<UpdateRelayEntry | undefined> => {
        const group = groups.get(relay._id) ?? relay.reportedGroup;
        if (!requiredByGroup.has(group)) {
          const required = await this.requiredFor(group);
          requiredByGroup.set(
            group,
            required.some((u) => u.updateId === updateId),
          );
        }
        const doc = await this.repository.state(relayStateId(updateId, relay._id));
        if (doc) return { relayId: relay._id, state: doc.state, at: doc.at.toISOString() };
        return requiredByGroup.get(group)
          ? { relayId: relay._id, state: 'pending' as const }
          : undefined;
      },
    );
    return entries.filter((e): e is UpdateRelayEntry => e !== undefined);
  }

  /** A relay's effective group, or undefined when it neither reported nor was assigned. */
  async groupOf(relayId: string): Promise<string | undefined> {
    const [assigned, relay] = await Promise.all([
      this.repository.assignment(relayId),
      this.repository.relay(relayId),
    ]);
    return assigned?.group ?? relay?.reportedGroup;
  }

  /** What a group's relays must hold: the current security updates and the builds rollouts target. */
  async requiredFor(group: string): Promise<PublishedUpdate[]> {
    const [all, current, software] = await Promise.all([
      this.published.all(),
      this.security.current(),
      this.softwareTargets(group),
    ]);
    const wanted = new Set([...current.map((c) => c.updateId), ...software]);
    return all.filter((u) => wanted.has(u.updateId));
  }

  async view(relayId: string): Promise<RelayView | undefined> {
    const [relay, assigned] = await Promise.all([
      this.repository.relay(relayId),
      this.repository.assignment(relayId),
    ]);
    if (!relay && !assigned) return undefined;
    const all = await this.published.all();
    return this.viewOf(relayId, relay ?? undefined, assigned?.group, all, (g) =>
      this.requiredFor(g),
    );
  }

  async views(): Promise<RelayView[]> {
    const [relays, groups, all] = await Promise.all([
      this.repository.allRelays(),
      this.assignedGroups(),
      this.published.all(),
    ]);
    // One required set per group, not per relay.
    const perGroup = new Map<string, Promise<PublishedUpdate[]>>();
    const requiredOf = (group: string) => {
      if (!perGroup.has(group)) perGroup.set(group, this.requiredFor(group));
      return perGroup.get(group) as Promise<PublishedUpdate[]>;
    };
    return mapLimited(relays, LOOKUPS, (r) =>
      this.viewOf(r._id, r, groups.get(r._id), all, requiredOf),
    );
  }

  private async viewOf(
    relayId: string,
    relay: RelayDoc | undefined,
    assignedGroup: string | undefined,
    all: PublishedUpdate[],
    requiredOf: (group: string) => Promise<PublishedUpdate[]>,
  ): Promise<RelayView> {
    const group = assignedGroup ?? relay?.reportedGroup ?? '';
    const required = await requiredOf(group);
    const holds = new Set(relay?.holds ?? []);
    const notHeld = required.filter((u) => !holds.has(u.sha256));
    const relayed = new Set<string>();
    await mapLimited(notHeld, LOOKUPS, async (u) => {
      const doc = await this.repository.state(relayStateId(u.updateId, relayId));
      if (doc?.state === 'relayed') relayed.add(u.updateId);
    });
    const pending = pendingUpdates(required, holds, relayed);
    // Missing: required files it does not hold. Extra: files the catalog does not offer at all
    // (unknown, withdrawn or altered); an offered but optional file (fetched on demand) is fine.
    const { missing } = contentDrift(
      holds,
      required.map((u) => u.sha256),
    );
    const offered = new Set(all.flatMap((u) => [u.sha256, u.signatureKey]));
    const extra = [...holds].filter((d) => !offered.has(d)).sort();
    // A relay told us it relayed an update yet its report does not hold it: its cache lost it.
    const lost = required.filter((u) => relayed.has(u.updateId) && relay && !holds.has(u.sha256));
    return {
      relayId,
      group,
      ...(relay ? { reportedGroup: relay.reportedGroup } : {}),
      ...(assignedGroup ? { assignedGroup } : {}),
      ...(relay?.url ? { url: relay.url } : {}),
      ...(relay ? { version: relay.version, platform: relay.platform } : {}),
      ...(relay ? { lastSeen: relay.seenAt.toISOString() } : {}),
      holds: holds.size,
      ...(relay?.merkleRoot ? { merkleRoot: relay.merkleRoot } : {}),
      expectedMerkleRoot: merkleRoot(required.map((u) => u.sha256)),
      ...(relay?.cacheBytes !== undefined ? { cacheBytes: relay.cacheBytes } : {}),
      ...(relay?.cacheMaxBytes !== undefined ? { cacheMaxBytes: relay.cacheMaxBytes } : {}),
      pending: pending.length,
      inSync: pending.length === 0,
      drift: { missing, extra },
      drifted: extra.length > 0 || lost.length > 0,
    };
  }

  private async assignedGroups(): Promise<Map<string, string>> {
    const docs = await this.repository.allAssignments();
    return new Map(docs.map((d) => [d._id, d.group]));
  }

  /** H3's rollouts provide SOFTWARE_TARGETS; resolved when asked, so neither module imports the other. */
  private async softwareTargets(group: string): Promise<string[]> {
    let port: SoftwareTargetsPort | undefined;
    try {
      port = this.modules.get<SoftwareTargetsPort>(SOFTWARE_TARGETS, { strict: false });
    } catch {
      return [];
    }
    try {
      return await port.requiredForGroup(group);
    } catch (error) {
      this.logger.warn(`software targets of group ${group} unavailable: ${String(error)}`);
      return [];
    }
  }
}

import { compareParsed, type Version } from '@sup/contracts';
import { contentDrift, merkleRoot } from '../../relays/merkle';
import type { AlertObservation } from '../alert-lifecycle';
import type { RuleEvaluation } from '../alert-rules';
import {
  bounded,
  conditionKey,
  newestSecurityByComponent,
  elapsedMs,
  isOffered,
  relayedKey,
  softwareVersion,
  type RuleComputer,
  type RuleSettings,
  type RulesSnapshot,
  type RuleUpdate,
} from './snapshot';

export const RELAY_OLDER_THAN_AGENT = 'relay-older-than-agent';
export const RELAY_UNAVAILABLE = 'relay-unavailable';
export const RELAYS_NOT_IN_SYNC = 'relays-not-in-sync';
export const RELAY_CONTENT_DRIFT = 'relay-content-drift';

const relaysOf = (s: RulesSnapshot): RuleComputer[] =>
  s.computers.filter((c) => c.role === 'relay');

/**
 * `relay-older-than-agent` (warning): a relay must run the same build as, or a newer one than,
 * every agent it serves (its relay group). One alert per relay, naming it and the newest agent of
 * its group, with how many agents of the group run a newer build than it.
 */
export function relayOlderThanAgent(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  const agentsByGroup = new Map<string, { id: string; version: Version }[]>();
  for (const c of snapshot.computers) {
    if (c.role !== 'agent') continue;
    const version = softwareVersion(c.version);
    if (!version) continue;
    const group = agentsByGroup.get(c.relayGroup) ?? [];
    group.push({ id: c.id, version });
    agentsByGroup.set(c.relayGroup, group);
  }
  // Oldest first, so the agents newer than a relay are a suffix found by binary search.
  const byVersion = (a: { id: string; version: Version }, b: { id: string; version: Version }) =>
    compareParsed(a.version, b.version) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const sorted = new Map<string, { id: string; version: Version }[]>();
  const at = now.toISOString();
  const holding: AlertObservation[] = [];
  for (const relay of relaysOf(snapshot)) {
    const version = softwareVersion(relay.version);
    const agents = agentsByGroup.get(relay.relayGroup);
    if (!version || !agents) continue;
    let ordered = sorted.get(relay.relayGroup);
    if (!ordered) {
      ordered = agents.sort(byVersion);
      sorted.set(relay.relayGroup, ordered);
    }
    const firstNewer = upperBound(ordered, version);
    const newer = ordered.length - firstNewer;
    if (newer === 0) continue;
    const newest = ordered[ordered.length - 1];
    holding.push({
      rule: RELAY_OLDER_THAN_AGENT,
      subject: relay.id,
      severity: 'warning',
      summary: `Relay ${relay.id} (${version.canonical}) is older than agent ${newest.id} (${newest.version.canonical}) of group ${relay.relayGroup}; ${newer} agent(s) run newer builds`,
      details: {
        relayId: relay.id,
        relayVersion: version.canonical,
        relayGroup: relay.relayGroup,
        agentId: newest.id,
        agentVersion: newest.version.canonical,
        newerAgents: newer,
        agents: bounded(
          ordered.slice(firstNewer).map((a) => a.id),
          settings.listLimit,
        ),
      },
      observationId: `${version.canonical}<${newest.version.canonical}`,
      at,
    });
  }
  return {
    rule: RELAY_OLDER_THAN_AGENT,
    holding,
    clearedReason: 'the relay is as new as every agent of its group',
  };
}

/** The first index whose version is newer than `v` (list sorted oldest first). */
function upperBound(list: readonly { version: Version }[], v: Version): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareParsed(list[mid].version, v) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `relay-unavailable` (critical: its agents fall back to the control plane): a relay whose latest
 * report is older than `relayUnavailableMs`. Clears itself when the relay reports again; the
 * silence it was last seen before names the episode.
 */
export function relayUnavailable(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  const at = now.toISOString();
  const holding = relaysOf(snapshot)
    .filter((r) => elapsedMs(r.seenAt, now) >= settings.relayUnavailableMs)
    .map((r): AlertObservation => ({
      rule: RELAY_UNAVAILABLE,
      subject: r.id,
      severity: 'critical',
      summary: `Relay ${r.id} of group ${r.relayGroup} has not reported since ${r.seenAt}`,
      details: { relayId: r.id, relayGroup: r.relayGroup, lastSeen: r.seenAt },
      observationId: `silent-since-${r.seenAt}`,
      at,
    }));
  return { rule: RELAY_UNAVAILABLE, holding, clearedReason: 'the relay reports again' };
}

/**
 * What a relay should hold: the current security update per component, and the newest offered
 * software build for each platform its group's agents and it itself run (agent builds for the
 * agents' platforms, relay builds for its own). Rollout targeting lives in distribution; this is
 * the part alerting can see from events.
 */
function expectedOf(snapshot: RulesSnapshot): (relay: RuleComputer) => RuleUpdate[] {
  const security = [...newestSecurityByComponent(snapshot.updates).values()];
  const newestSoftware = new Map<string, { update: RuleUpdate; version: Version }>();
  for (const u of snapshot.updates) {
    if (u.kind !== 'software' || !u.platform || !isOffered(u)) continue;
    const version = softwareVersion(u.version);
    if (!version) continue;
    const key = `${u.component}/${u.platform}`;
    const best = newestSoftware.get(key);
    if (!best || compareParsed(version, best.version) > 0)
      newestSoftware.set(key, { update: u, version });
  }
  const platformsByGroup = new Map<string, Set<string>>();
  for (const c of snapshot.computers) {
    if (c.role !== 'agent') continue;
    const set = platformsByGroup.get(c.relayGroup) ?? new Set<string>();
    set.add(c.platform);
    platformsByGroup.set(c.relayGroup, set);
  }
  return (relay) => {
    const wanted = [...security];
    for (const p of platformsByGroup.get(relay.relayGroup) ?? []) {
      const u = newestSoftware.get(`agent/${p}`);
      if (u) wanted.push(u.update);
    }
    const own = newestSoftware.get(`relay/${relay.platform}`);
    if (own) wanted.push(own.update);
    return wanted;
  };
}

/**
 * `relays-not-in-sync` (warning): per relay, the updates it should hold (see expectedOf) that were
 * published more than `relaySyncMs` ago and that it has not relayed. A new update falling behind
 * is a new sighting of the alert.
 */
export function relaysNotInSync(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  const expected = expectedOf(snapshot);
  const at = now.toISOString();
  const holding: AlertObservation[] = [];
  for (const relay of relaysOf(snapshot)) {
    const behind = expected(relay).filter(
      (u) =>
        elapsedMs(u.publishedAt, now) >= settings.relaySyncMs &&
        !snapshot.relayed.has(relayedKey(u.updateId, relay.id)),
    );
    if (behind.length === 0) continue;
    const ids = behind.map((u) => u.updateId).sort();
    holding.push({
      rule: RELAYS_NOT_IN_SYNC,
      subject: relay.id,
      severity: 'warning',
      summary: `Relay ${relay.id} has not relayed ${behind.length} published update(s)`,
      details: {
        relayId: relay.id,
        relayGroup: relay.relayGroup,
        count: ids.length,
        updates: bounded(ids, settings.listLimit),
      },
      observationId: conditionKey(ids),
      at,
    });
  }
  return { rule: RELAYS_NOT_IN_SYNC, holding, clearedReason: 'the relay relayed every update' };
}

/**
 * `relay-content-drift`: what a relay reports holding against what it should. Critical when it
 * holds digests that are no offered update (unknown, withdrawn or altered files) or its reported
 * Merkle root is not the root of what it lists; a warning when it only misses a current security
 * update published more than `relaySyncMs` ago.
 */
export function relayContentDrift(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  const offered = new Set<string>();
  const graceful = new Set<string>();
  for (const u of snapshot.updates) {
    if (!isOffered(u)) continue;
    offered.add(u.sha256);
    if (elapsedMs(u.publishedAt, now) < settings.relaySyncMs) graceful.add(u.sha256);
  }
  const expected = [...newestSecurityByComponent(snapshot.updates).values()]
    .map((u) => u.sha256)
    .filter((d) => !graceful.has(d));
  const at = now.toISOString();
  const holding: AlertObservation[] = [];
  for (const relay of relaysOf(snapshot)) {
    if (!relay.relay) continue;
    const { holds, merkleRoot: reported } = relay.relay;
    const { missing } = contentDrift(holds, expected);
    const extra = holds.filter((d) => !offered.has(d)).sort();
    const rootOk = merkleRoot(holds) === reported;
    if (missing.length === 0 && extra.length === 0 && rootOk) continue;
    const critical = extra.length > 0 || !rootOk;
    const what = [
      ...(rootOk ? [] : ['a Merkle root that is not the root of its holdings']),
      ...(extra.length ? [`${extra.length} unexpected file(s)`] : []),
      ...(missing.length ? [`${missing.length} missing current security update(s)`] : []),
    ];
    holding.push({
      rule: RELAY_CONTENT_DRIFT,
      subject: relay.id,
      severity: critical ? 'critical' : 'warning',
      summary: `Relay ${relay.id} reports ${what.join(', ')}`,
      details: {
        relayId: relay.id,
        relayGroup: relay.relayGroup,
        merkleRootMatches: rootOk,
        missing: bounded(missing, settings.listLimit),
        extra: bounded(extra, settings.listLimit),
        missingCount: missing.length,
        extraCount: extra.length,
      },
      observationId: conditionKey(missing, extra, rootOk),
      at,
    });
  }
  return {
    rule: RELAY_CONTENT_DRIFT,
    holding,
    clearedReason: 'the relay holds what it should',
  };
}

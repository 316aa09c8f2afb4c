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
  softwareVersions,
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
interface Bucket {
  version: Version;
  ids: string[];
}

export function relayOlderThanAgent(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  // Per group, the agents bucketed by build: a fleet runs few builds, so a relay is compared
  // with each build once, not with each agent.
  const parse = softwareVersions();
  const groups = new Map<string, Map<string, Bucket>>();
  for (const c of snapshot.computers) {
    if (c.role !== 'agent') continue;
    const version = parse(c.version);
    if (!version) continue;
    let builds = groups.get(c.relayGroup);
    if (!builds) groups.set(c.relayGroup, (builds = new Map<string, Bucket>()));
    const bucket = builds.get(version.canonical);
    if (bucket) bucket.ids.push(c.id);
    else builds.set(version.canonical, { version, ids: [c.id] });
  }
  const at = now.toISOString();
  const holding: AlertObservation[] = [];
  for (const relay of relaysOf(snapshot)) {
    const version = parse(relay.version);
    const builds = groups.get(relay.relayGroup);
    if (!version || !builds) continue;
    const newer = [...builds.values()].filter((b) => compareParsed(b.version, version) > 0);
    if (newer.length === 0) continue;
    const newest = newer.reduce((a, b) => (compareParsed(b.version, a.version) > 0 ? b : a));
    const agentId = [...newest.ids].sort()[0];
    const ids = newer.flatMap((b) => b.ids);
    holding.push({
      rule: RELAY_OLDER_THAN_AGENT,
      subject: relay.id,
      severity: 'warning',
      summary: `Relay ${relay.id} (${version.canonical}) is older than agent ${agentId} (${newest.version.canonical}) of group ${relay.relayGroup}; ${ids.length} agent(s) run newer builds`,
      details: {
        relayId: relay.id,
        relayVersion: version.canonical,
        relayGroup: relay.relayGroup,
        agentId,
        agentVersion: newest.version.canonical,
        newerAgents: ids.length,
        agents: bounded(ids, settings.listLimit),
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

import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  compareVersions,
  parseVersion,
  type AgentAssignment,
  type AssignmentQuery,
  type ResolvedBuild,
} from '@sup/contracts';
import { randomInt } from 'node:crypto';
import { buildOf, resolvedOf } from './catalog-builds';
import {
  RELAY_LOOKUP,
  SECURITY_TARGETS,
  type RelayLookup,
  type RelaySighting,
  type SecurityTargets,
} from './relay-ports';
import {
  ACTIVE_KEY,
  ROLLOUT_INDEX_STORE,
  ROLLOUT_STORE,
  rolloutKey,
  type RolloutIndexStore,
  type RolloutStore,
} from './rollout-stores';
import { ROLLOUTS_CONFIG, type RolloutsConfig } from './rollouts.config';
import { RolloutsRepository } from './rollouts.repository';
import { VersionControlService } from './version-control.service';

type Software = AgentAssignment['software'];

/** Rollout states in which an agent whose wave started is told to run the target. */
const OFFERING = new Set(['running', 'waiting-for-relays', 'paused', 'completed']);

/**
 * What one agent should run and where to fetch it. Rollouts override version control: an agent
 * in an unfinished rollout gets its target once its wave started and nothing before (so version
 * control cannot jump the waves); any other agent gets the version-control build when it is newer
 * than what it runs. Relays of its group are shuffled (spreading load, as the reference product
 * does); relays not seen within RELAY_STALE_MS follow the others, and relays without a URL are left out.
 */
@Injectable()
export class AssignmentService {
  constructor(
    @Inject(ROLLOUT_STORE) private readonly store: RolloutStore,
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    @Inject(RELAY_LOOKUP) private readonly relays: RelayLookup,
    @Inject(SECURITY_TARGETS) private readonly security: SecurityTargets,
    @Inject(ROLLOUTS_CONFIG) private readonly config: RolloutsConfig,
    private readonly repository: RolloutsRepository,
    private readonly versionControl: VersionControlService,
  ) {}

  async assignment(agentId: string, query: AssignmentQuery): Promise<AgentAssignment> {
    const [doc] = await this.repository.computers([agentId]);
    const platform = doc?.platform ?? query.platform;
    const group = doc?.relayGroup ?? query.group;
    const version = doc?.version ?? query.version;
    if (!platform || !group) {
      throw new NotFoundException({
        message: `unknown-agent: agent ${agentId} has not reported yet; ask with ?platform=&group=`,
        code: 'unknown-agent',
      });
    }
    const [relays, software, security] = await Promise.all([
      this.relays.relaysOfGroup(group),
      this.software(agentId, platform, version),
      this.security.current(),
    ]);
    return {
      agentId,
      relays: this.order(relays),
      fallback: this.config.controlPlaneUrl,
      ...(software ? { software } : {}),
      security,
    };
  }

  private async software(agentId: string, platform: string, runs?: string): Promise<Software> {
    const active = (await this.index.get(ACTIVE_KEY))?.value.rollouts ?? [];
    for (const entry of active.filter((r) => r.platform === platform)) {
      const member = await this.repository.member(entry.id, agentId);
      if (!member || member.kind !== 'agents') continue;
      const rollout = (await this.store.get(rolloutKey(entry.id)))?.value;
      if (!rollout) continue;
      if (!OFFERING.has(rollout.state) || !rollout.waves[member.wave]?.startedAt) return undefined;
      const target = await this.repository.catalogEntry(rollout.updateId);
      return target ? { ...resolvedOf(buildOf(target)), rolloutId: rollout.id } : undefined;
    }
    const resolved = await this.versionControl.resolve(platform);
    return resolved && newer(resolved, runs) ? resolved : undefined;
  }

  private order(relays: RelaySighting[]): string[] {
    const staleBefore = Date.now() - this.config.relayStaleMs;
    const withUrl = relays.filter((r): r is RelaySighting & { url: string } => !!r.url);
    const fresh = withUrl.filter((r) => r.lastSeen && Date.parse(r.lastSeen) >= staleBefore);
    const stale = withUrl.filter((r) => !fresh.includes(r));
    return [...shuffle(fresh), ...shuffle(stale)].map((r) => r.url);
  }
}

function newer(build: ResolvedBuild, runs: string | undefined): boolean {
  if (!runs || !parseVersion('software', runs).ok) return true;
  return compareVersions('software', build.version, runs) > 0;
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

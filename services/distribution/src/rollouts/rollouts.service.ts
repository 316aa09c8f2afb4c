import {
  ConflictException,
  HttpException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import {
  compareVersions,
  MAX_ACTIVE_ROLLOUTS,
  MAX_ROLLOUT_AGENTS,
  normalizeVersion,
  type Actor,
  type CreateRolloutBody,
  type Rollout,
} from '@sup/contracts';
import {
  cancelRollout,
  createRollout,
  pauseRollout,
  planWaves,
  relaysOlderThan,
  resumeRollout,
  rolloutView,
  RolloutTransitionError,
  type RolloutRecord,
} from '@sup/domain';
import { AuditTrail } from '@sup/service-kit';
import { randomBytes } from 'node:crypto';
import { RELAY_LOOKUP, type RelayLookup, type RelaySighting } from './relay-ports';
import { RolloutAnnouncer } from './rollout-announcer';
import {
  ACTIVE_KEY,
  ROLLOUT_INDEX_STORE,
  ROLLOUT_STORE,
  rolloutKey,
  type ActiveRollout,
  type RolloutIndexStore,
  type RolloutStore,
} from './rollout-stores';
import { RolloutsRepository } from './rollouts.repository';

const refuse = (status: 400 | 404 | 409, code: string, message: string, details?: string[]) =>
  new HttpException(
    { message: `${code}: ${message}`, code, ...(details ? { details } : {}) },
    status,
  );

/** Whether two rollouts could reach one agent: same platform, a shared group, shared agents. */
export function conflicts(a: ActiveRollout, b: Omit<ActiveRollout, 'createdAt'>): boolean {
  if (a.platform !== b.platform) return false;
  if (!a.groups.some((g) => b.groups.includes(g))) return false;
  if (!a.agentIds || !b.agentIds) return true;
  return a.agentIds.some((id) => b.agentIds!.includes(id));
}

/** Creating rollouts and the operator's pause, resume and cancel. */
@Injectable()
export class RolloutsService {
  constructor(
    @Inject(ROLLOUT_STORE) private readonly store: RolloutStore,
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    @Inject(RELAY_LOOKUP) private readonly relays: RelayLookup,
    private readonly repository: RolloutsRepository,
    private readonly announcer: RolloutAnnouncer,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Checks everything before changing anything: the update, the group, the agents, the relay
   * rule; then claims the agents in the `active` index (one compare-and-set, which is where a
   * conflicting rollout is refused), writes the plan insert-once and stores the rollout.
   */
  async create(body: CreateRolloutBody, actor: Actor): Promise<Rollout> {
    const { target } = body;
    const entry = await this.repository.catalogEntry(body.updateId);
    if (!entry)
      throw refuse(409, 'update-not-published', `update ${body.updateId} is not published`);
    if (entry.kind !== 'software' || entry.component !== 'agent')
      throw refuse(409, 'not-an-agent-build', `update ${body.updateId} is not an agent build`);
    if (entry.platform !== target.platform) {
      throw refuse(
        409,
        'platform-mismatch',
        `update ${body.updateId} is for ${entry.platform ?? 'no platform'}, the target is ${target.platform}`,
      );
    }
    if (target.group && !(await this.relays.groupExists(target.group)))
      throw refuse(404, 'unknown-group', `no relay group named ${target.group}`);
    const version = normalizeVersion('software', entry.version);

    const agents = await this.repository.targetAgents(target, MAX_ROLLOUT_AGENTS + 1);
    if (agents.length === 0) throw refuse(409, 'no-target-agents', 'the target matches no agent');
    if (agents.length > MAX_ROLLOUT_AGENTS) {
      throw refuse(
        409,
        'too-many-agents',
        `the target matches more than ${MAX_ROLLOUT_AGENTS} agents; narrow it by group or agentIds`,
      );
    }
    const groups = [...new Set(agents.map((a) => a.relayGroup))].sort();
    const relayWave = await this.relayWave(body, groups, version);

    const id = `rol_${randomBytes(12).toString('hex')}`;
    const agentWaves = planWaves(
      id,
      agents.map((a) => a._id),
      body.waves ? { percents: body.waves } : { size: body.waveSize! },
    );
    const plan = [
      ...(relayWave.length > 0 ? [{ kind: 'relays' as const, members: relayWave }] : []),
      ...agentWaves.map((members) => ({ kind: 'agents' as const, members })),
    ];
    const at = new Date().toISOString();
    await this.claim({
      id,
      platform: target.platform,
      updateId: body.updateId,
      version,
      groups,
      ...(target.agentIds ? { agentIds: [...target.agentIds].sort() } : {}),
      createdAt: at,
    });
    await this.repository.writePlan(id, plan);
    // Agents that already run the target build count from the start.
    await this.repository.writeOutcomes(
      agents
        .filter((a) => sameBuild(a.version, version))
        .map((a) => ({ rolloutId: id, agentId: a._id, state: 'succeeded', at: new Date(at) })),
    );
    const record = createRollout(
      {
        id,
        updateId: body.updateId,
        version,
        target,
        groups,
        successThreshold: body.successThreshold,
        errorThreshold: body.errorThreshold,
        relayPolicy: body.relayPolicy,
        waves: plan.map((w) => ({ kind: w.kind, size: w.members.length })),
        agents: agents.length,
      },
      actor.name,
      at,
    );
    await this.store.create(rolloutKey(id), record);
    await this.announcer.announce(await this.store.get(rolloutKey(id)));
    await this.recordAction('rollout-created', id, 1, actor);
    return rolloutView(record);
  }

  /**
   * The relay rule: relays serving the target agents that run an older build than the target.
   * `refuse` names them (409); `upgrade-relays-first` makes them the first wave, which needs a
   * published relay build at least as new as the target for each of their platforms.
   */
  private async relayWave(body: CreateRolloutBody, groups: string[], version: string) {
    const serving = (await Promise.all(groups.map((g) => this.relays.relaysOfGroup(g)))).flat();
    const older = relaysOlderThan(
      version,
      serving.map((r: RelaySighting) => ({ relayId: r.relayId, version: r.version ?? '' })),
    );
    if (older.length === 0) return [];
    if (body.relayPolicy === 'refuse') {
      throw refuse(
        409,
        'relay-older-than-target',
        `relays ${older.join(', ')} run a build older than ${version}; upgrade them or use relayPolicy upgrade-relays-first`,
        older,
      );
    }
    const platforms = [
      ...new Set(serving.filter((r) => older.includes(r.relayId)).map((r) => r.platform ?? '')),
    ];
    const missing: string[] = [];
    for (const platform of platforms) {
      const builds = platform ? await this.repository.publishedBuilds('relay', platform) : [];
      if (!builds.some((b) => validAtLeast(b.version, version)))
        missing.push(platform || '(unknown)');
    }
    if (missing.length > 0) {
      throw refuse(
        409,
        'no-relay-build',
        `no published relay build at least ${version} for ${missing.join(', ')}`,
        missing,
      );
    }
    return older;
  }

  private async claim(entry: ActiveRollout): Promise<void> {
    let clash: ActiveRollout | undefined;
    let full = false;
    await this.index.update(ACTIVE_KEY, (current) => {
      const rollouts = current?.value.rollouts ?? [];
      clash = rollouts.find((r) => conflicts(r, entry));
      full = rollouts.length >= MAX_ACTIVE_ROLLOUTS;
      if (clash || full) return undefined;
      return { rollouts: [...rollouts, entry] };
    });
    if (clash) {
      throw refuse(
        409,
        'conflicting-rollout',
        `rollout ${clash.id} is active for agents of ${entry.platform} in ${clash.groups.join(', ')}`,
        [clash.id],
      );
    }
    if (full)
      throw refuse(409, 'too-many-rollouts', `${MAX_ACTIVE_ROLLOUTS} rollouts are active already`);
  }

  async get(id: string): Promise<Rollout> {
    const found = await this.store.get(rolloutKey(id));
    if (!found) throw new NotFoundException(`no rollout with id ${id}`);
    return rolloutView(found.value);
  }

  async list(): Promise<Omit<Rollout, 'history'>[]> {
    return (await this.store.entries())
      .filter((e) => e.key.startsWith('rollout.'))
      .map((e) => rolloutView(e.value))
      .map(({ history: _history, ...item }) => item)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  pause(id: string, actor: Actor) {
    return this.transition(id, actor, 'rollout-paused', pauseRollout);
  }

  resume(id: string, actor: Actor) {
    return this.transition(id, actor, 'rollout-resumed', resumeRollout);
  }

  cancel(id: string, actor: Actor) {
    return this.transition(id, actor, 'rollout-cancelled', cancelRollout);
  }

  private async transition(
    id: string,
    actor: Actor,
    action: string,
    apply: (r: RolloutRecord, by: string, at: string) => RolloutRecord | undefined,
  ): Promise<Rollout> {
    let refused: RolloutTransitionError | undefined;
    let changed = false;
    const at = new Date().toISOString();
    const stored = await this.store.update(rolloutKey(id), (current) => {
      if (!current) return undefined;
      refused = undefined;
      try {
        const next = apply(current.value, actor.name, at);
        changed = next !== undefined;
        return next;
      } catch (error) {
        if (!(error instanceof RolloutTransitionError)) throw error;
        refused = error;
        return undefined;
      }
    });
    if (!stored) throw new NotFoundException(`no rollout with id ${id}`);
    if (refused)
      throw new ConflictException({ message: refused.message, code: 'invalid-transition' });
    await this.announcer.announce(stored);
    if (changed) await this.recordAction(action, id, stored.value.revision, actor);
    return rolloutView(stored.value);
  }

  private recordAction(action: string, rolloutId: string, revision: number, actor: Actor) {
    return this.audit.record([
      {
        id: `${action}-${rolloutId}-${revision}`,
        action,
        actor,
        target: rolloutId,
        outcome: 'accepted',
      },
    ]);
  }
}

function sameBuild(reported: string, canonical: string): boolean {
  try {
    return normalizeVersion('software', reported) === canonical;
  } catch {
    return false;
  }
}

function validAtLeast(version: string, target: string): boolean {
  try {
    return compareVersions('software', version, target) >= 0;
  } catch {
    return false;
  }
}

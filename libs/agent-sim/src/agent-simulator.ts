import { MAX_FLEET_BATCH, type FleetReport, type InstallStatus } from '@sup/contracts';
import type { TrustAnchors } from '@sup/integrity';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, HttpError } from './http';
import { parseProvenanceKey, type ProvenanceKey } from './provenance';
import type { AssignedUpdate, Assignment, Catalog } from './types';
import { VerifiedDownloader, type Source, type SourceFailure } from './verified-download';

/** One simulated computer running the agent. */
export interface SimAgentSpec {
  id: string;
  platform: string;
  /** The agent build it runs, as the vendor writes it. */
  version: string;
  group: string;
  securityUpdates?: Record<string, string>;
}

export interface AgentSimulatorOptions {
  /** The control plane's API base, e.g. `http://127.0.0.1:8080/v1`. */
  controlPlane: string;
  /** A bearer token with role `agent`. */
  token: string;
  agents: readonly SimAgentSpec[];
  trustAnchors: TrustAnchors;
  /** Share of installs (0..1) that fail after a verified download, as a broken install would. */
  failRate?: number;
  /** Agents working (assignment, downloads) at once. Default 16. */
  concurrency?: number;
  /** Pause between rounds of `run()`. Default 2 s. */
  intervalMs?: number;
  /** Rounds in which no source had an update before its install is reported failed. Default 5. */
  maxSourceRounds?: number;
  /** Random source in [0,1): seedable (see `seededRandom`) so a run can be repeated. */
  random?: () => number;
  log?: (message: string) => void;
}

export interface SimulatorStats {
  rounds: number;
  reportsPosted: number;
  downloads: number;
  bytesDownloaded: number;
  /** Verified downloads by source kind. */
  fromRelay: number;
  fromFallback: number;
  provenanceVerified: number;
  installed: number;
  failed: number;
  /** A source that lacked the entry, failed or served bytes that did not verify. */
  sourceFailures: number;
}

interface AgentState extends SimAgentSpec {
  securityUpdates: Record<string, string>;
  install?: InstallStatus;
  /** Updates whose install failed: not retried, as a failed rollout step is not. */
  failedUpdates: Set<string>;
  /** Rounds in which no source had the update, per update id. */
  missing: Map<string, number>;
  lastSeenMs: number;
}

/** Mulberry32: a small seeded PRNG, so a simulator run with a seed fails the same installs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function eachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Simulated agents, as issue 7 describes them. Each round every agent reports itself, asks the
 * control plane what it should run, fetches what it lacks from its relays in the order given
 * (then the control plane), verifies SHA-256, the CMS signature and the provenance, "installs"
 * (its reported version or security updates change) or fails a share of installs, and reports
 * progress and result. Reports go in batches of up to 1,000 to `POST /v1/fleet/reports`.
 */
export class AgentSimulator {
  readonly stats: SimulatorStats = {
    rounds: 0,
    reportsPosted: 0,
    downloads: 0,
    bytesDownloaded: 0,
    fromRelay: 0,
    fromFallback: 0,
    provenanceVerified: 0,
    installed: 0,
    failed: 0,
    sourceFailures: 0,
  };
  private readonly agents: AgentState[];
  private readonly http: HttpClient;
  private readonly random: () => number;
  private readonly base: string;
  private provenanceKey?: Promise<ProvenanceKey | undefined>;
  private running?: Promise<void>;
  private stopper = new AbortController();

  constructor(private readonly options: AgentSimulatorOptions) {
    const failRate = options.failRate ?? 0;
    if (!(failRate >= 0 && failRate <= 1)) throw new RangeError('failRate must be within 0..1');
    this.base = options.controlPlane.replace(/\/+$/, '');
    this.http = new HttpClient({ token: options.token });
    this.random = options.random ?? Math.random;
    this.agents = options.agents.map((a) => ({
      ...a,
      securityUpdates: { ...(a.securityUpdates ?? {}) },
      failedUpdates: new Set(),
      missing: new Map(),
      lastSeenMs: 0,
    }));
  }

  /** What each agent runs now, for assertions. */
  state(): {
    id: string;
    version: string;
    securityUpdates: Record<string, string>;
    install?: InstallStatus;
  }[] {
    return this.agents.map((a) => ({
      id: a.id,
      version: a.version,
      securityUpdates: { ...a.securityUpdates },
      ...(a.install ? { install: a.install } : {}),
    }));
  }

  /** Rounds every `intervalMs` until `stop()`; a failing round is logged and the loop goes on. */
  start(): void {
    if (this.running) return;
    this.stopper = new AbortController();
    const signal = this.stopper.signal;
    this.running = (async () => {
      while (!signal.aborted) {
        try {
          await this.round();
        } catch (error) {
          this.say(`round failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        await sleep(this.options.intervalMs ?? 2_000, undefined, { signal }).catch(() => undefined);
      }
    })();
  }

  /** Ends the loop after the round in progress (its downloads finish; nothing is cut). */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
    this.running = undefined;
  }

  /** One round for every agent: report, assignment, downloads, installs, report. */
  async round(): Promise<void> {
    this.stats.rounds++;
    const downloader = new VerifiedDownloader({
      http: this.http,
      trustAnchors: this.options.trustAnchors,
      provenanceKey: () => this.key(),
      catalogs: new Map<string, Promise<Catalog>>(),
    });
    const plans: { agent: AgentState; assignment: Assignment; todo: AssignedUpdate[] }[] = [];
    await eachLimit(this.agents, this.options.concurrency ?? 16, async (agent) => {
      const assignment = await this.assignment(agent);
      const todo = assignment ? this.todo(agent, assignment) : [];
      if (assignment && todo.length) plans.push({ agent, assignment, todo });
    });
    // Progress first: the control plane sees who is downloading what before the bytes move.
    for (const { agent, todo } of plans) this.setInstall(agent, todo[0], 'downloading');
    await this.report(plans.map((p) => p.agent));
    await eachLimit(plans, this.options.concurrency ?? 16, async ({ agent, assignment, todo }) => {
      for (const item of todo) await this.install(agent, assignment, item, downloader);
    });
    await this.report(this.agents);
  }

  /** Posts the agents' reports in batches of at most 1,000. */
  async report(agents: readonly AgentState[] = this.agents): Promise<void> {
    for (let i = 0; i < agents.length; i += MAX_FLEET_BATCH) {
      const reports = agents.slice(i, i + MAX_FLEET_BATCH).map((a) => this.reportOf(a));
      await this.http.postJson(`${this.base}/fleet/reports`, { reports });
      this.stats.reportsPosted += reports.length;
    }
  }

  private reportOf(agent: AgentState): FleetReport {
    // The later of two reports of one computer wins: never send two with the same instant.
    agent.lastSeenMs = Math.max(Date.now(), agent.lastSeenMs + 1);
    return {
      id: agent.id,
      role: 'agent',
      platform: agent.platform,
      version: agent.version,
      relayGroup: agent.group,
      securityUpdates: { ...agent.securityUpdates },
      seenAt: new Date(agent.lastSeenMs).toISOString(),
      ...(agent.install ? { install: agent.install } : {}),
    };
  }

  private async assignment(agent: AgentState): Promise<Assignment | undefined> {
    // The query lets a new agent ask before its first report reached the read model.
    const query = new URLSearchParams({
      platform: agent.platform,
      group: agent.group,
      version: agent.version,
    });
    try {
      return await this.http.json<Assignment>(
        `${this.base}/agents/${encodeURIComponent(agent.id)}/assignment?${query.toString()}`,
      );
    } catch (error) {
      if (!(error instanceof HttpError && error.status === 404)) this.say(String(error));
      return undefined;
    }
  }

  /** What the assignment names that this agent does not run yet (and has not failed). */
  private todo(agent: AgentState, assignment: Assignment): AssignedUpdate[] {
    const todo: AssignedUpdate[] = [];
    const software = assignment.software;
    if (
      software &&
      software.version !== agent.version &&
      !agent.failedUpdates.has(software.updateId)
    )
      todo.push(software);
    for (const s of assignment.security ?? []) {
      if (agent.securityUpdates[s.component] !== s.version && !agent.failedUpdates.has(s.updateId))
        todo.push(s);
    }
    return todo;
  }

  private sources(assignment: Assignment, group: string): Source[] {
    const relays: Source[] = assignment.relays.map((base) => ({
      kind: 'relay',
      base,
      catalogUrl: `${base.replace(/\/+$/, '')}/catalog`,
    }));
    const fallback = (assignment.fallback || this.base).replace(/\/+$/, '');
    return [
      ...relays,
      {
        kind: 'fallback',
        base: fallback,
        catalogUrl: `${fallback}/relay-groups/${encodeURIComponent(group)}/catalog`,
      },
    ];
  }

  private async install(
    agent: AgentState,
    assignment: Assignment,
    item: AssignedUpdate,
    downloader: VerifiedDownloader,
  ): Promise<void> {
    this.setInstall(agent, item, 'downloading');
    const failures: SourceFailure[] = [];
    const got = await downloader.download(item, this.sources(assignment, agent.group), failures);
    this.stats.sourceFailures += failures.length;
    if (!got) {
      const rounds = (agent.missing.get(item.updateId) ?? 0) + 1;
      agent.missing.set(item.updateId, rounds);
      const why = failures.map((f) => f.reason).join('; ');
      if (rounds < (this.options.maxSourceRounds ?? 5)) return;
      this.fail(agent, item, `no source delivered verified bytes: ${why}`.slice(0, 1_000));
      return;
    }
    agent.missing.delete(item.updateId);
    this.stats.downloads++;
    this.stats.bytesDownloaded += got.bytes;
    if (got.source.kind === 'relay') this.stats.fromRelay++;
    else this.stats.fromFallback++;
    if (got.provenanceVerified) this.stats.provenanceVerified++;
    this.setInstall(agent, item, 'installing');
    if (this.random() < (this.options.failRate ?? 0)) {
      this.fail(agent, item, 'simulated install failure');
      return;
    }
    if (item.component && assignment.software?.updateId !== item.updateId)
      agent.securityUpdates[item.component] = item.version;
    else agent.version = item.version;
    this.setInstall(agent, item, 'installed');
    this.stats.installed++;
  }

  private fail(agent: AgentState, item: AssignedUpdate, reason: string): void {
    agent.failedUpdates.add(item.updateId);
    this.setInstall(agent, item, 'failed', reason);
    this.stats.failed++;
  }

  private setInstall(
    agent: AgentState,
    item: AssignedUpdate,
    state: InstallStatus['state'],
    reason?: string,
  ): void {
    agent.install = {
      updateId: item.updateId,
      state,
      at: new Date().toISOString(),
      ...(reason ? { reason } : {}),
      ...(item.rolloutId ? { rolloutId: item.rolloutId } : {}),
    };
  }

  /** The control plane's provenance key, read once; without one, provenance goes unchecked. */
  private key(): Promise<ProvenanceKey | undefined> {
    this.provenanceKey ??= this.http.text(`${this.base}/provenance/key`).then(
      (text) => parseProvenanceKey(text.trimStart().startsWith('{') ? JSON.parse(text) : text),
      (error: unknown) => {
        // Asked again next round: a control plane that was briefly unreachable still has one.
        this.provenanceKey = undefined;
        this.say(`no provenance key (${String(error)}): provenance not checked this round`);
        return undefined;
      },
    );
    return this.provenanceKey;
  }

  private say(message: string): void {
    this.options.log?.(`[agent-sim] ${message}`);
  }
}

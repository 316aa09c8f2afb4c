import type { FleetReported } from '@sup/contracts';
import { connectJetStream, VersionedStore } from '@sup/jetstream';
import { useMongo, useNats } from '@sup/process';
import {
  merkleRoot,
  relayedKey,
  reportRank,
  ruleComputerOf,
  RulesState,
  STATE_RULES,
  DEFAULT_RULE_SETTINGS,
  type RuleComputer,
  type RulesSnapshot,
  type RuleUpdate,
} from '@sup/domain';
import { createHash } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { writeBenchSection } from './doc-section';
import { fmt, median } from './stats';

export interface RulesBenchResult {
  agents: number;
  relays: number;
  platforms: number;
  updates: number;
  seedMs: number;
  loadRuns: number;
  /**
   * Median of the runs: a replica's start as RulesFeed does it, every computer from the KV
   * bucket's watch and the catalog from FerretDB, at once.
   */
  loadMs: number;
  /** Median of the runs: copying the in-memory picture, which each evaluation does. */
  snapshotMs: number;
  /** Median and worst of the runs: every state rule over the loaded snapshot. */
  evaluateMs: number;
  evaluateMaxMs: number;
  /** Median CPU time (user + system) of one evaluation: what it costs when the host is busy. */
  evaluateCpuMs: number;
  /** Median time per rule. */
  perRule: Record<string, number>;
  /** Subjects each rule held for (the alerts an evaluation observes). */
  holding: Record<string, number>;
}

const COMPONENTS = [
  'firewall-rules',
  'intrusion-prevention-rules',
  'integrity-monitoring-rules',
  'log-inspection-rules',
] as const;
const digest = (s: string) => createHash('sha256').update(s).digest('hex');
const minutesAgo = (now: Date, m: number) => new Date(now.getTime() - m * 60_000).toISOString();

/**
 * A fleet shaped like a large deployment: agents spread over platforms and relay groups (one
 * relay per group), most on the 20.0 line and some on 9.6, a few builds behind; security updates
 * per component with some computers behind; relays holding the current security updates, a few
 * of them stale, silent or holding an unknown file.
 */
function fleet(agents: number, relays: number, platforms: number, now: Date) {
  const platform = (i: number) => `linux-p${String(i % platforms).padStart(2, '0')}`;
  const updates: RuleUpdate[] = [];
  for (let p = 0; p < platforms; p++) {
    for (const [component, versions] of [
      ['agent', ['20.0.1-100', '20.0.1-110', '20.0.1-120', '9.6.100', '9.6.200']],
      ['relay', ['20.0.1-100', '20.0.1-120']],
    ] as const) {
      for (const version of versions) {
        updates.push({
          updateId: `upd_${digest(`${component}${p}${version}`).slice(0, 24)}`,
          kind: 'software',
          component,
          platform: platform(p),
          version,
          sha256: digest(`${component}/${p}/${version}`),
          publishedAt: minutesAgo(now, 24 * 60),
        });
      }
    }
  }
  for (const component of COMPONENTS) {
    for (let s = 50; s <= 58; s++) {
      updates.push({
        updateId: `upd_${digest(`${component}${s}`).slice(0, 24)}`,
        kind: 'security',
        component,
        version: `26-0${s}`,
        sha256: digest(`${component}/${s}`),
        publishedAt: minutesAgo(now, (59 - s) * 24 * 60),
      });
    }
  }
  const current = COMPONENTS.map((c) => digest(`${c}/58`));
  const computers: RuleComputer[] = [];
  for (let i = 0; i < agents; i++) {
    computers.push({
      id: `agent-${i}`,
      role: 'agent',
      platform: platform(i),
      version: i % 10 === 0 ? '9.6.100' : `20.0.1-${100 + (i % 3) * 10}`,
      relayGroup: `site-${i % relays}`,
      securityUpdates: Object.fromEntries(
        COMPONENTS.map((c, k) => [c, (i + k) % 50 === 0 ? '26-057' : '26-058']),
      ),
      seenAt: minutesAgo(now, 1),
    });
  }
  const relayed: string[] = [];
  for (let r = 0; r < relays; r++) {
    const holds = r % 97 === 0 ? [...current.slice(1), digest(`unknown-${r}`)] : current;
    computers.push({
      id: `relay-${r}`,
      role: 'relay',
      platform: platform(r),
      version: r % 20 === 3 ? '20.0.1-100' : '20.0.1-120',
      relayGroup: `site-${r}`,
      securityUpdates: {},
      seenAt: minutesAgo(now, r % 100 === 0 ? 60 : 1),
      relay: { holds, merkleRoot: merkleRoot(holds) },
    });
    // Most relays relayed what their site needs (its group's agents run the relay's platform);
    // every 50th lags behind.
    if (r % 50 === 0) continue;
    for (const u of updates) {
      if (u.kind === 'security' || u.platform === platform(r)) {
        relayed.push(relayedKey(u.updateId, `relay-${r}`));
      }
    }
  }
  return { computers, updates, relayed };
}

/** A computer's value in alerting's KV bucket, as RuleComputerWinners stores it. */
function winnerEntry({ relay, ...c }: RuleComputer, receivedAt: string) {
  const report = {
    ...c,
    ...(relay
      ? {
          relay: {
            url: `http://${c.id}.example:8090/v1`,
            ...relay,
            cacheBytes: 0,
            cacheMaxBytes: 1 << 30,
          },
        }
      : {}),
  };
  const reported: FleetReported = { report, receivedAt };
  return { rank: reportRank(report), reported };
}

/**
 * Every state rule over 100,000 agents and 1,000 relays on 50 platforms, with a replica's start
 * as alerting's RulesFeed does it: each computer's latest report seeded into a KV bucket shaped
 * like `alert_rules_state` and read back through a watch, the catalog (rule_updates,
 * rule_relayed) seeded into FerretDB and read with the driver, both at once; then the evaluation
 * over the in-memory picture. Start, copy and evaluation are timed apart.
 */
export async function benchRules(
  opts: {
    agents?: number;
    relays?: number;
    platforms?: number;
    runs?: number;
    loadRuns?: number;
  } = {},
): Promise<RulesBenchResult> {
  const { agents = 100_000, relays = 1_000, platforms = 50, runs = 5, loadRuns = 2 } = opts;
  const now = new Date();
  const data = fleet(agents, relays, platforms, now);
  const [mongo, nats] = await Promise.all([useMongo(), useNats()]);
  const client = await new MongoClient(mongo.uri).connect();
  const connection = await connectJetStream({ servers: nats.url, service: 'bench' });
  const bucket = `bench_rules_${Date.now()}`;
  try {
    const db = client.db(`rules_bench_${Date.now()}`);
    const seed = async (name: string, docs: Document[]) => {
      for (let i = 0; i < docs.length; i += 1_000) {
        await db.collection(name).insertMany(docs.slice(i, i + 1_000), { ordered: false });
      }
    };
    const t0 = performance.now();
    const store = await VersionedStore.open<ReturnType<typeof winnerEntry>>(connection, bucket);
    for (let i = 0; i < data.computers.length; i += 2_000) {
      await Promise.all(
        data.computers
          .slice(i, i + 2_000)
          .map((c) => store.create(`computer.${c.id}`, winnerEntry(c, now.toISOString()))),
      );
    }
    await seed(
      'rule_updates',
      data.updates.map(({ updateId, ...u }) => ({ _id: updateId, ...u })),
    );
    await seed(
      'rule_relayed',
      data.relayed.map((_id) => ({ _id, relayedAt: now.toISOString() })),
    );
    const seedMs = performance.now() - t0;

    const start = async (): Promise<RulesState> => {
      const state = new RulesState();
      const watch = store.watch('computer.>', (key, entry) =>
        state.setComputer(
          key.slice('computer.'.length),
          entry && ruleComputerOf(entry.reported.report),
        ),
      );
      try {
        const read = (name: string, projection: Document = {}) =>
          db.collection(name).find({}, { projection, batchSize: 10_000 }).toArray();
        const [updates, relayed] = await Promise.all([
          read('rule_updates'),
          read('rule_relayed', { _id: 1 }),
        ]);
        for (const { _id, ...u } of updates)
          state.addUpdate({ updateId: String(_id), ...u } as RuleUpdate);
        for (const r of relayed) state.addRelayed(String(r._id));
        await watch.ready;
        return state;
      } finally {
        await watch.stop();
      }
    };
    const loads: number[] = [];
    const copies: number[] = [];
    const evaluations: number[] = [];
    const cpu: number[] = [];
    const perRule: Record<string, number[]> = {};
    const holding: Record<string, number> = {};
    let snapshot: RulesSnapshot | undefined;
    for (let run = 0; run < loadRuns; run++) {
      const l0 = performance.now();
      const state = await start();
      loads.push(performance.now() - l0);
      if (state.counts.computers !== data.computers.length)
        throw new Error(`the watch gave ${state.counts.computers} computers`);
      const c0 = performance.now();
      snapshot = state.snapshot();
      copies.push(performance.now() - c0);
    }
    for (let run = 0; run < runs && snapshot; run++) {
      const e0 = performance.now();
      const c0 = process.cpuUsage();
      for (const rule of STATE_RULES) {
        const r0 = performance.now();
        const evaluation = rule(snapshot, now, DEFAULT_RULE_SETTINGS);
        (perRule[evaluation.rule] ??= []).push(performance.now() - r0);
        holding[evaluation.rule] = evaluation.holding.length;
      }
      evaluations.push(performance.now() - e0);
      const used = process.cpuUsage(c0);
      cpu.push((used.user + used.system) / 1000);
    }
    return {
      agents,
      relays,
      platforms,
      updates: data.updates.length,
      seedMs,
      loadRuns,
      loadMs: median(loads),
      snapshotMs: median(copies),
      evaluateMs: median(evaluations),
      evaluateMaxMs: Math.max(...evaluations),
      evaluateCpuMs: median(cpu),
      perRule: Object.fromEntries(Object.entries(perRule).map(([k, v]) => [k, median(v)])),
      holding,
    };
  } finally {
    await connection.jsm.streams.delete(`KV_${bucket}`).catch(() => undefined);
    await connection.close();
    await client.close();
    await Promise.all([mongo.stop(), nats.stop()]);
  }
}

export function rulesMarkdown(r: RulesBenchResult): string[] {
  return [
    `**Alert rules** (every state rule over ${r.agents.toLocaleString('en')} agents and ${r.relays.toLocaleString('en')} relays on ${r.platforms} platforms, ${r.updates} published updates; evaluation: median of 5 runs; load: median of ${r.loadRuns}): evaluation **${fmt(r.evaluateMs, 0)} ms** wall, ${fmt(r.evaluateCpuMs, 0)} ms CPU (worst ${fmt(r.evaluateMaxMs, 0)} ms wall; target ≤ 1,000 ms), a replica's start (every computer from the KV watch, the catalog from FerretDB) **${fmt(r.loadMs, 0)} ms**, copying the in-memory picture per evaluation ${fmt(r.snapshotMs, 0)} ms (seeding took ${fmt(r.seedMs / 1000, 1)} s).`,
    '',
    '| rule | median ms | subjects holding |',
    '|---|---:|---:|',
    ...Object.entries(r.perRule).map(
      ([rule, ms]) => `| ${rule} | ${fmt(ms, 1)} | ${r.holding[rule] ?? 0} |`,
    ),
  ];
}

/** `npm run bench -- rules`: this benchmark alone, into its own section of docs/benchmarks.md. */
export async function runRulesBench(): Promise<void> {
  process.stdout.write('[bench rules] 100,000 agents and 1,000 relays on 50 platforms\n');
  writeBenchSection('bench-rules', rulesMarkdown(await benchRules()), 'Alert rules');
}

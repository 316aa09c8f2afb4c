import { useMongo } from '@sup/process';
import {
  merkleRoot,
  relayedKey,
  STATE_RULES,
  DEFAULT_RULE_SETTINGS,
  type RuleComputer,
  type RulesSnapshot,
  type RuleUpdate,
} from '@sup/domain';
import { createHash } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { fmt, median } from './stats';

export interface RulesBenchResult {
  agents: number;
  relays: number;
  platforms: number;
  updates: number;
  seedMs: number;
  loadRuns: number;
  /** Median of the runs: reading the snapshot from FerretDB (alerting's rule_* collections). */
  loadMs: number;
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

/**
 * Every state rule over 100,000 agents and 1,000 relays on 50 platforms: the snapshot is seeded
 * into FerretDB as alerting's projection keeps it (collections rule_computers, rule_updates,
 * rule_relayed), loaded with the driver as the repository does, and evaluated; load and
 * evaluation are timed apart.
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
  const mongo = await useMongo();
  const client = await new MongoClient(mongo.uri).connect();
  try {
    const db = client.db(`rules_bench_${Date.now()}`);
    const seed = async (name: string, docs: Document[]) => {
      for (let i = 0; i < docs.length; i += 1_000) {
        await db.collection(name).insertMany(docs.slice(i, i + 1_000), { ordered: false });
      }
    };
    const t0 = performance.now();
    await seed(
      'rule_computers',
      data.computers.map(({ id, ...c }) => ({ _id: id, ...c, rank: `${c.seenAt}#0` })),
    );
    await seed(
      'rule_updates',
      data.updates.map(({ updateId, ...u }) => ({ _id: updateId, ...u })),
    );
    await seed(
      'rule_relayed',
      data.relayed.map((_id) => ({ _id, relayedAt: now.toISOString() })),
    );
    const seedMs = performance.now() - t0;

    const load = async (): Promise<RulesSnapshot> => {
      const read = (name: string, projection: Document = {}) =>
        db.collection(name).find({}, { projection, batchSize: 10_000 }).toArray();
      const [computers, updates, relayed] = await Promise.all([
        read('rule_computers', { rank: 0 }),
        read('rule_updates'),
        read('rule_relayed', { _id: 1 }),
      ]);
      return {
        computers: computers.map(({ _id, ...c }) => ({ id: String(_id), ...c }) as RuleComputer),
        updates: updates.map(({ _id, ...u }) => ({ updateId: String(_id), ...u }) as RuleUpdate),
        relayed: new Set(relayed.map((r) => String(r._id))),
      };
    };
    const loads: number[] = [];
    const evaluations: number[] = [];
    const cpu: number[] = [];
    const perRule: Record<string, number[]> = {};
    const holding: Record<string, number> = {};
    let snapshot: RulesSnapshot | undefined;
    for (let run = 0; run < loadRuns; run++) {
      const l0 = performance.now();
      snapshot = await load();
      loads.push(performance.now() - l0);
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
      evaluateMs: median(evaluations),
      evaluateMaxMs: Math.max(...evaluations),
      evaluateCpuMs: median(cpu),
      perRule: Object.fromEntries(Object.entries(perRule).map(([k, v]) => [k, median(v)])),
      holding,
    };
  } finally {
    await client.close();
    await mongo.stop();
  }
}

export function rulesMarkdown(r: RulesBenchResult): string[] {
  return [
    `**Alert rules** (every state rule over ${r.agents.toLocaleString('en')} agents and ${r.relays.toLocaleString('en')} relays on ${r.platforms} platforms, ${r.updates} published updates; evaluation: median of 5 runs; load: median of ${r.loadRuns}): evaluation **${fmt(r.evaluateMs, 0)} ms** wall, ${fmt(r.evaluateCpuMs, 0)} ms CPU (worst ${fmt(r.evaluateMaxMs, 0)} ms wall; target ≤ 1,000 ms), snapshot load from FerretDB **${fmt(r.loadMs, 0)} ms** (seeding took ${fmt(r.seedMs / 1000, 1)} s).`,
    '',
    '| rule | median ms | subjects holding |',
    '|---|---:|---:|',
    ...Object.entries(r.perRule).map(
      ([rule, ms]) => `| ${rule} | ${fmt(ms, 1)} | ${r.holding[rule] ?? 0} |`,
    ),
  ];
}

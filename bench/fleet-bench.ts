import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { FleetReport } from '@sup/contracts';
import { createTestPki, eventually, Pipeline, publishFleetReport, sleep } from '@sup/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt } from './stats';
import { writeBenchSection } from './doc-section';

/** The fleet durable of distribution: it has caught up when nothing is pending or unacked. */
const FLEET_CONSUMER = 'distribution-fleet-fleet_v1_reported';
const BATCH = 1_000;

export interface FleetPhase {
  what: string;
  reports: number;
  /** Reports/s the way in stored (202s for REST, publish acks for NATS). */
  storedPerSecond: number;
  /** Reports/s from the first send to the fleet durable having written and acked them all. */
  endToEndPerSecond: number;
}

export interface FleetBenchResult {
  computers: number;
  phases: FleetPhase[];
  /** Raw JetStream publishes of fleet-report-sized messages (256 in flight) on the same server. */
  rawPublishPerSecond: number;
  load: number;
  /** FLEET_SEEN_RESOLUTION_MS of the run ('default' when unset: 60,000). */
  seenResolutionMs: string;
}

/**
 * Computer `id`'s report of `round` (a material change each round), seen `tick` × 10 s after the
 * round began: ticks of one round say the same thing, seen again (the skip's case).
 */
const report = (id: number, round: number, tick = 0): FleetReport => ({
  id: `bench-${id}`,
  role: 'agent',
  platform: id % 2 ? 'linux-x86_64' : 'windows-x86_64',
  version: `20.0.1-${100 + round}`,
  relayGroup: `group-${id % 20}`,
  securityUpdates: { 'firewall-rules': `26-0${10 + round}`, 'anti-malware-pattern': '19.231.00' },
  // Each round is ten minutes later: a known computer's re-report always supersedes.
  seenAt: new Date(
    Date.parse('2026-11-29T10:00:00Z') + round * 600_000 + tick * 10_000,
  ).toISOString(),
});

/**
 * Fleet ingestion (issue 8: >= 5,000 reports/s through REST and through NATS): `computers` new
 * computers, then the same computers reporting again (known), once over REST (batches of 1,000,
 * 4 posts at a time, the agent token) and once over NATS (256 publishes in flight), against one
 * distribution replica on FerretDB. End to end = until the fleet durable has written and acked
 * every report (consumer info: nothing pending, nothing awaiting an ack), which it does only
 * after the read model write. The raw JetStream publish rate on the same server is the reference.
 */
export async function benchFleet(computers: number): Promise<FleetBenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'sup-bench-fleet-'));
  const pki = await createTestPki(join(work, 'pki'));
  const resolution = process.env.FLEET_SEEN_RESOLUTION_MS;
  const pipeline = await Pipeline.start({
    trustAnchors: pki.trustAnchorsPem,
    // FLEET_SEEN_RESOLUTION_MS=0 turns the skip off: the figures without it.
    env: { LOG_LEVEL: 'warn', ...(resolution ? { FLEET_SEEN_RESOLUTION_MS: resolution } : {}) },
  });
  const nc = await pipeline.connectNats();
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const caughtUp = async () => {
      for (;;) {
        const info = await jsm.consumers.info('FLEET', FLEET_CONSUMER);
        if (info.num_pending === 0 && info.num_ack_pending === 0) return;
        await sleep(50);
      }
    };
    const publish = (r: FleetReport, round: number, tick = 0) => {
      const id = `bench-${r.id}-${round}-${tick}`;
      return publishFleetReport(nc, r, id, { source: '/agents/bench' });
    };
    const viaRest = async (round: number, tick = 0) => {
      for (let i = 0; i < computers; i += 4 * BATCH) {
        const posts = [0, 1, 2, 3]
          .map((k) => i + k * BATCH)
          .filter((from) => from < computers)
          .map((from) =>
            pipeline.api(
              'POST',
              '/v1/fleet/reports',
              {
                reports: Array.from({ length: Math.min(BATCH, computers - from) }, (_, j) =>
                  report(from + j, round, tick),
                ),
              },
              { as: 'agent' },
            ),
          );
        for (const res of await Promise.all(posts)) {
          if (res.status !== 202) throw new Error(`fleet reports answered ${res.status}`);
        }
      }
    };
    const viaNats = async (round: number, tick = 0) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 256 }, async () => {
          for (let i = next++; i < computers; i = next++)
            await publish(report(i, round, tick), round, tick);
        }),
      );
    };
    const phase = async (what: string, round: number, send: (round: number) => Promise<void>) => {
      await caughtUp();
      const started = performance.now();
      await send(round);
      const stored = performance.now();
      await caughtUp();
      const done = performance.now();
      return {
        what,
        reports: computers,
        storedPerSecond: computers / ((stored - started) / 1000),
        endToEndPerSecond: computers / ((done - started) / 1000),
      };
    };
    // Round 0 makes the computers; rounds 1 and 2 change them all; ticks 1 and 2 of round 2
    // report them unchanged, seen 10 and 20 s later.
    const phases: FleetPhase[] = [
      await phase('new computers, REST', 0, viaRest),
      await phase('known computers, changed, REST', 1, viaRest),
      await phase('known computers, changed, NATS', 2, viaNats),
      await phase('known computers, unchanged, REST', 2, (round) => viaRest(round, 1)),
      await phase('known computers, unchanged, NATS', 2, (round) => viaNats(round, 2)),
    ];
    // New over NATS needs ids nobody used: shift them past the others.
    const fresh = async (round: number) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 256 }, async () => {
          for (let i = next++; i < computers; i = next++)
            await publish(report(computers + i, round), round);
        }),
      );
    };
    phases.splice(1, 0, await phase('new computers, NATS', 0, fresh));
    // Every report is in the read model: the listing counts both sets at their last round.
    await eventually(
      async () => {
        const res = await pipeline.api<{ total: number }>('GET', '/v1/fleet?limit=1', undefined, {
          as: 'viewer',
        });
        return res.body.total === 2 * computers ? true : undefined;
      },
      `${2 * computers} computers in the read model`,
    );

    await jsm.streams.add({ name: 'FLEETRAW', subjects: ['fleetraw.>'] });
    const payload = new TextEncoder().encode(
      JSON.stringify({ report: report(0, 0), receivedAt: new Date().toISOString() }),
    );
    let next = 0;
    const rawStart = performance.now();
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        for (let i = next++; i < computers; i = next++) {
          await js.publish(`fleetraw.${i}`, payload, { msgID: `raw-${i}` });
        }
      }),
    );
    const rawPublishPerSecond = computers / ((performance.now() - rawStart) / 1000);
    await jsm.streams.delete('FLEETRAW');
    return {
      computers,
      phases,
      rawPublishPerSecond,
      load: loadavg()[0] ?? 0,
      seenResolutionMs: resolution ?? 'default',
    };
  } finally {
    await nc.close();
    await pipeline.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function fleetMarkdown(r: FleetBenchResult): string[] {
  return [
    `**Fleet report ingestion** (${fmt(r.computers, 0)} computers each way, one distribution replica, FerretDB, FLEET_SEEN_RESOLUTION_MS ${r.seenResolutionMs}; load average ${fmt(r.load, 1)} at the end). Unchanged = the same report seen again 10 s later: no read-model write unless the resolution is 0. End to end = from the first send until the \`fleet\` durable has written the read model and acknowledged every report.`,
    '',
    '| phase | stored (reports/s) | end to end (reports/s) |',
    '| --- | ---: | ---: |',
    ...r.phases.map(
      (p) => `| ${p.what} | ${fmt(p.storedPerSecond, 0)} | **${fmt(p.endToEndPerSecond, 0)}** |`,
    ),
    '',
    `Raw JetStream on the same server, same run (fleet-report-sized messages, 256 in flight): ${fmt(r.rawPublishPerSecond, 0)} publishes/s.`,
  ];
}

/** `npm run bench -- fleet`, and part of `npm run bench`: rewrites the fleet results. */
export async function runFleetBench(): Promise<void> {
  const computers = Number(process.env.BENCH_FLEET_COMPUTERS || 12_000);
  process.stdout.write(`[bench fleet] ${computers} computers, new and known, REST and NATS\n`);
  const result = await benchFleet(computers);
  writeBenchSection('bench-fleet', fleetMarkdown(result), 'Fleet ingestion');
}

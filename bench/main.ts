import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { benchCms, cmsMarkdown } from './cms-bench';
import { benchJetStream } from './jetstream-bench';
import { benchLatency, benchThroughput, signedFeed, type ThroughputResult } from './pipeline-bench';
import { createTestPki } from '@sup/testing';
import { benchSha256, sha256Markdown } from './sha256-bench';
import { fmt } from './stats';
import { runRelayBenches } from './relay-bench-report';
import { runFleetBench } from './fleet-bench';
import { benchRules, rulesMarkdown, runRulesBench } from './rules-bench';

/**
 * `npm run bench`: measures, on this machine and in this run, the checksum path and CMS
 * verification against openssl, raw JetStream (the pipeline's ceiling), and the pipeline end to
 * end (throughput over a long sync with one and two replicas of every service, and latency at an
 * offered load), then rewrites the results section of docs/benchmarks.md. BENCH_SHA256_MIB
 * (default 1024), BENCH_CMS_SECONDS (3), BENCH_UPDATES (10000) and BENCH_SKIP (comma-separated:
 * sha256, cms, jetstream, throughput, replicas, latency, relays) scale it down for a quick look.
 * `npm run bench -- relays` runs only the relay benchmarks (section "Relays", relay-bench-report.ts);
 * `npm run bench -- fleet` only fleet report ingestion (fleet-bench.ts, BENCH_FLEET_COMPUTERS);
 * `npm run bench -- rules` only the alert rules (section "Alert rules", rules-bench.ts).
 */
async function main(): Promise<void> {
  if (process.argv[2] === 'relays') return runRelayBenches();
  if (process.argv[2] === 'fleet') return runFleetBench();
  if (process.argv[2] === 'rules') return runRulesBench();
  if (process.argv[2])
    throw new Error(`unknown bench selection "${process.argv[2]}" (relays, fleet, rules)`);
  const mib = Number(process.env.BENCH_SHA256_MIB || 1024);
  const count = Number(process.env.BENCH_UPDATES || 10_000);
  const cmsSeconds = Number(process.env.BENCH_CMS_SECONDS || 3);
  const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
  const say = (m: string) => process.stdout.write(`[bench] ${m}\n`);
  const work = mkdtempSync(join(tmpdir(), 'sup-bench-'));
  const lines: string[] = [];
  try {
    if (!skip.has('sha256'))
      lines.push(...sha256Markdown(await benchSha256(work, mib * 1024 * 1024, 3)), '');
    if (!skip.has('cms'))
      lines.push(...cmsMarkdown(await benchCms(work, { seconds: cmsSeconds })), '');
    let ceiling: Awaited<ReturnType<typeof benchJetStream>> | undefined;
    if (!skip.has('jetstream')) {
      say('raw JetStream publish and consume rate');
      ceiling = await benchJetStream();
      lines.push(
        `**Raw JetStream on this machine** (the ceiling; ${ceiling.messages} messages of 1 KiB, file storage): publish ${fmt(ceiling.publishPerSecond, 0)}/s (256 in flight), pull + ack ${fmt(ceiling.consumePerSecond, 0)}/s.`,
        '',
      );
    }
    const pki = await createTestPki(join(work, 'pki'));
    const runs: ThroughputResult[] = [];
    if (!skip.has('throughput') || !skip.has('replicas')) {
      say(`signing ${count} updates with openssl…`);
      const feed = await signedFeed(join(work, 'feed'), pki, count);
      for (const replicas of [1, 2]) {
        if (skip.has(replicas === 1 ? 'throughput' : 'replicas')) continue;
        say(`${count} updates through the pipeline, ${replicas} replica(s) of every service`);
        const run = await benchThroughput(pki, feed.url, count, replicas);
        say(`${fmt(run.updatesPerSecond)} updates/s`);
        runs.push(run);
      }
    }
    if (runs.length) lines.push(...throughputMarkdown(runs, ceiling), '');
    if (!skip.has('latency')) {
      say('latency at an offered 100 updates/s');
      const lat = await benchLatency(work, pki, 100, 40, 10);
      lines.push(
        `**End-to-end latency at an offered ${lat.offeredPerSecond} updates/s** (40 syncs of 10 updates, one every 100 ms; each update from its sync request to \`published\`): p50 **${fmt(lat.p50, 0)} ms**, p99 **${fmt(lat.p99, 0)} ms** over ${lat.updates} updates. By hop: ${Object.entries(
          lat.hops,
        )
          .map(([hop, h]) => `${hop} ${fmt(h.p50, 0)} / ${fmt(h.p99, 0)} ms`)
          .join('; ')}.`,
        '',
      );
    }
    if (!skip.has('rules')) {
      say('alert rules over 100,000 agents and 1,000 relays');
      lines.push(...rulesMarkdown(await benchRules()), '');
    }
    const section = [
      `<!-- bench:start -->`,
      `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}.`,
      '',
      ...lines,
      `<!-- bench:end -->`,
    ].join('\n');
    const doc = resolve(__dirname, '../../docs/benchmarks.md');
    const text = readFileSync(doc, 'utf8');
    writeFileSync(doc, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, section));
    process.stdout.write(`\n${section}\n\nwritten to ${doc}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!skip.has('relays')) await runRelayBenches();
  if (!skip.has('fleet')) await runFleetBench();
}

function throughputMarkdown(
  runs: ThroughputResult[],
  ceiling: Awaited<ReturnType<typeof benchJetStream>> | undefined,
): string[] {
  const [one] = runs;
  const two = runs.find((r) => r.replicas === 2);
  const out = [
    `**${one.updates} small signed updates (4 KiB each), one sync request → \`published\`**: the five services as separate processes on one NATS server and FerretDB (SQLite), all on this machine's cores.`,
    '',
    '| replicas of every service | updates/s end to end | first 1,000 / last 1,000 (updates/s) | published / rejected |',
    '| --- | ---: | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.replicas} | **${fmt(r.updatesPerSecond)}** | ${fmt(r.firstWindowRate)} / ${fmt(r.lastWindowRate)} (${fmt((r.lastWindowRate / r.firstWindowRate) * 100, 0)} %) | ${r.states.published} / ${r.states.rejected} |`,
    ),
    '',
  ];
  if (two) {
    out.push(
      `Two replicas reach ${fmt((two.updatesPerSecond / one.updatesPerSecond) * 100, 0)} % of the one-replica rate, with the same final states: ${two.states.published === one.states.published && two.states.rejected === one.states.rejected ? 'yes' : 'NO'}.`,
      '',
    );
  }
  out.push(
    '| stage (one replica) | events/s over its own span | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    ...Object.entries(one.hops).map(([hop, h]) => {
      const type = Object.keys(one.stageRates).find((t) => hop.endsWith(t.split('.').pop() ?? ''));
      return `| ${hop} | ${type ? fmt(one.stageRates[type], 0) : ''} | ${fmt(h.p50, 0)} | ${fmt(h.p99, 0)} |`;
    }),
  );
  if (ceiling) {
    out.push(
      '',
      `Against the ceiling: each update costs about 15 JetStream operations (5 events stored, about 10 deliveries and acks), so the raw rates above bound the pipeline near ${fmt(Math.min(ceiling.publishPerSecond / 5, ceiling.consumePerSecond / 10), 0)} updates/s before any work is done.`,
    );
  }
  return out;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

import { createTestPki } from '@sup/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchSection } from './doc-section';
import { benchRelays, type RelayBenchResult } from './relay-bench';
import { benchFanout, type FanoutResult } from './relay-fanout-bench';
import { fmt, median } from './stats';

/**
 * The relay benchmarks (`npm run bench -- relays`, and the end of `npm run bench`): one large
 * update relayed to many relays, one security update fanned out to 1,000 relay consumers, and a
 * relay's serving rates against a static file server. Rewrites the "Relays" results of
 * docs/benchmarks.md. BENCH_RELAYS (20), BENCH_RELAY_MB (100), BENCH_FANOUT_CONSUMERS (1000),
 * BENCH_RELAY_SECONDS (10) and BENCH_RELAY_SKIP (fanout, relayed) scale it down.
 */
export async function runRelayBenches(): Promise<void> {
  const say = (m: string) => process.stdout.write(`[bench relays] ${m}\n`);
  const env = process.env;
  const skip = new Set((env.BENCH_RELAY_SKIP ?? '').split(',').filter(Boolean));
  const work = mkdtempSync(join(tmpdir(), 'sup-bench-relays-'));
  const load = loadavg()[0] ?? 0;
  const lines: string[] = [];
  try {
    if (!skip.has('fanout')) {
      const consumers = Number(env.BENCH_FANOUT_CONSUMERS || 1_000);
      say(`one published update fanned out to ${consumers} relay consumers…`);
      lines.push(...fanoutMarkdown(await benchFanout(consumers)), '');
    }
    if (!skip.has('relayed')) {
      const pki = await createTestPki(join(work, 'pki'));
      const result = await benchRelays(work, pki, {
        relays: Number(env.BENCH_RELAYS || 20),
        mb: Number(env.BENCH_RELAY_MB || 100),
        seconds: Number(env.BENCH_RELAY_SECONDS || 10),
        say,
      });
      lines.push(...relaysMarkdown(result), '');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeBenchSection('bench-relays', lines, 'Relays', load);
}

function fanoutMarkdown(r: FanoutResult): string[] {
  const all = median(r.allNotifiedMs);
  return [
    `**One security update fanned out to ${r.consumers} relay consumers**: ${r.consumers} durable pull consumers \`relay-<id>\` on \`updates.v1.published.*\`, each pulled by its own connection as its own NATS user (relayNatsPermissions), with the relay's fetch loop — not ${r.consumers} relay processes, which this machine cannot run. Time from the publish to the last consumer holding the message, three publishes: ${r.allNotifiedMs.map((ms) => `${fmt(ms, 0)} ms`).join(', ')} (median **${fmt(all, 0)} ms**, target < 2,000 ms: ${all < 2_000 ? 'met' : 'NOT met'}); per consumer p50 ${fmt(r.p50Ms, 0)} ms, p99 ${fmt(r.p99Ms, 0)} ms. All ${r.consumers} clients run in one Node process, so the times include its own queueing; ${r.pullErrors} pulls failed and were retried (missed heartbeats while the clients connected).`,
  ];
}

function relaysMarkdown(r: RelayBenchResult): string[] {
  const f = r.fanout;
  const naive = f.relays * f.artifactBytes;
  return [
    `**One ${fmt(f.artifactBytes / 1e6, 0)} MB update relayed to ${f.relays} relays** (services/relay processes, one group, all on this machine; downloads through a counting proxy in front of distribution): first relay \`relayed\` ${fmt(f.firstRelayedSeconds)} s after \`published\`, all ${f.relays} after **${fmt(f.allRelayedSeconds)} s**. Bytes sent by the download endpoint: ${fmt(f.bytesServed / 1e6, 0)} MB in ${f.artifactRequests} requests, against ${fmt(naive / 1e6, 0)} MB for ${f.relays} × the file (${fmt((f.bytesServed / naive) * 100, 0)} %): every relay verifies its own copy, so the control plane serves each relay once; resumes would only add the missing ranges.`,
    '',
    '| from one relay vs a static file server (same machine, 8 in flight) | relay /s | static /s | ratio (target ≥ 0.8×) |',
    '| --- | ---: | ---: | ---: |',
    ...r.serve.map(
      (s) =>
        `| ${s.what} | ${fmt(s.relayPerSecond, 0)} | ${fmt(s.staticPerSecond, 0)} | **${fmt(s.relayPerSecond / s.staticPerSecond, 2)}×** |`,
    ),
  ];
}

import { SUBJECTS } from '@sup/contracts';
import { buildFeed, eventually, Pipeline, sleep, type TestPki } from '@sup/testing';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { percentile } from './stats';
import { rateOf, readTimelines } from './stream-timeline';

/** The bench's feeds are file: URLs under the OS temp directory, named in each sync request. */
const BENCH_ENV = {
  LOG_LEVEL: 'warn',
  FEED_IMPORT_CONCURRENCY: '32',
  FEED_ALLOW_FILE: 'true',
  FEED_ALLOWED_URL_PREFIXES: pathToFileURL(tmpdir()).href,
};
/** How many published updates make "the first" and "the last" window of a long run. */
const WINDOW = 1_000;

export interface ThroughputResult {
  updates: number;
  replicas: number;
  wallSeconds: number;
  /** Updates published per second, from the sync request to the last `published`. */
  updatesPerSecond: number;
  /** Events per second each stage stored, over its own first-to-last span. */
  stageRates: Record<string, number>;
  /** Per-update latency of each hop, p50/p99 in ms. */
  hops: Record<string, { p50: number; p99: number }>;
  /** Publication rate of the first and the last WINDOW updates. */
  firstWindowRate: number;
  lastWindowRate: number;
  states: { published: number; rejected: number };
}

export interface LatencyResult {
  offeredPerSecond: number;
  updates: number;
  p50: number;
  p99: number;
  /** Per-update latency of each hop after import, p50/p99 in ms. */
  hops: Record<string, { p50: number; p99: number }>;
}

const HOPS: [string, string, string][] = [
  ['sync request → imported', 'requested', SUBJECTS.imported],
  ['imported → checksum-verified', SUBJECTS.imported, SUBJECTS.checksumVerified],
  ['checksum-verified → validated', SUBJECTS.checksumVerified, SUBJECTS.validated],
  ['validated → published', SUBJECTS.validated, SUBJECTS.published],
];

/** p50/p99 of each hop, per update, from the stream's timestamps (and the sync request time). */
function hopLatencies(
  t: Awaited<ReturnType<typeof readTimelines>>,
  requested?: number,
): Record<string, { p50: number; p99: number }> {
  const hops: Record<string, { p50: number; p99: number }> = {};
  for (const [label, from, to] of HOPS) {
    if (from === 'requested' && requested === undefined) continue;
    const samples: number[] = [];
    for (const [id, at] of t[to as keyof typeof t]) {
      const start = from === 'requested' ? requested : t[from as keyof typeof t].get(id);
      if (start !== undefined) samples.push(at - start);
    }
    hops[label] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }
  return hops;
}

/** `count` small (4 KiB) software updates, each signed with openssl, in a feed of its own. */
export function signedFeed(dir: string, pki: TestPki, count: number, feed = 'bench', series = 0) {
  return buildFeed(dir, pki, {
    feed,
    updates: Array.from({ length: count }, (_, i) => ({
      kind: 'software',
      component: i % 2 ? 'agent' : 'relay',
      platform: 'linux-x86_64',
      version: `30.${series}.${i}-${10_000 + i}`,
      content: 4096,
    })),
  });
}

/** One sync of `feedUrl` (N updates) through a fresh stack; rates and latencies from the stream. */
export async function benchThroughput(
  pki: TestPki,
  feedUrl: string,
  count: number,
  replicas: number,
): Promise<ThroughputResult> {
  const pipeline = await Pipeline.start({
    trustAnchors: pki.trustAnchorsPem,
    env: BENCH_ENV,
    replicas,
  });
  try {
    const requested = Date.now();
    await pipeline.api('POST', '/v1/feeds/sync', { url: feedUrl });
    await eventually(
      async () => {
        const res = await pipeline.api<{ total: number }>(
          'GET',
          '/v1/updates?state=published&limit=1',
        );
        return res.body.total >= count ? true : undefined;
      },
      `${count} updates published`,
      1_800_000,
      500,
    );
    const t = await readTimelines(pipeline.natsUrl, pipeline.natsCredentials?.admin);
    const published = [...t[SUBJECTS.published].values()].sort((a, b) => a - b);
    const wallSeconds = (published[published.length - 1] - requested) / 1000;
    const hops = hopLatencies(t, requested);
    const e2e = published.map((at) => at - requested);
    hops['sync request → published'] = { p50: percentile(e2e, 50), p99: percentile(e2e, 99) };
    const stageRates = Object.fromEntries(
      [SUBJECTS.imported, SUBJECTS.checksumVerified, SUBJECTS.validated, SUBJECTS.published].map(
        (type) => [type, rateOf([...t[type].values()].sort((a, b) => a - b))],
      ),
    );
    const window = Math.min(WINDOW, Math.floor(published.length / 2));
    return {
      updates: count,
      replicas,
      wallSeconds,
      updatesPerSecond: published.length / wallSeconds,
      stageRates,
      hops,
      firstWindowRate: rateOf(published.slice(0, window)),
      lastWindowRate: rateOf(published.slice(-window)),
      states: { published: t[SUBJECTS.published].size, rejected: t[SUBJECTS.rejected].size },
    };
  } finally {
    await pipeline.stop();
  }
}

/**
 * End-to-end latency at an offered load: `feeds` small feeds of `perFeed` updates, one sync
 * requested every `perFeed / rate` seconds, each update timed from its own sync request to its
 * `published` event.
 */
export async function benchLatency(
  workDir: string,
  pki: TestPki,
  rate: number,
  feeds: number,
  perFeed: number,
): Promise<LatencyResult> {
  const built = [];
  for (let f = 0; f < feeds; f++) {
    built.push(
      await signedFeed(join(workDir, `latency-${f}`), pki, perFeed, `latency-${f}`, f + 1),
    );
  }
  const pipeline = await Pipeline.start({ trustAnchors: pki.trustAnchorsPem, env: BENCH_ENV });
  try {
    const requestedAt = new Map<string, number>();
    const intervalMs = (perFeed / rate) * 1000;
    const start = Date.now();
    for (const [f, feed] of built.entries()) {
      const due = start + f * intervalMs;
      if (due > Date.now()) await sleep(due - Date.now());
      requestedAt.set(`latency-${f}`, Date.now());
      await pipeline.api('POST', '/v1/feeds/sync', { url: feed.url });
    }
    const total = feeds * perFeed;
    await eventually(
      async () => {
        const res = await pipeline.api<{ total: number }>(
          'GET',
          '/v1/updates?state=published&limit=1',
        );
        return res.body.total >= total ? true : undefined;
      },
      `${total} updates published`,
      600_000,
      500,
    );
    const t = await readTimelines(pipeline.natsUrl, pipeline.natsCredentials?.admin);
    const samples: number[] = [];
    const details = await Promise.all(
      [...t[SUBJECTS.published].keys()].map((id) =>
        pipeline.api<{ id: string; sha256: string }>('GET', `/v1/updates/${id}`),
      ),
    );
    // Which feed (so which sync request) each update came from, by its published digest.
    const feedBySha = new Map<string, string>();
    for (const feed of built) {
      for (const entry of feed.index.updates)
        feedBySha.set((entry.artifact as { sha256: string }).sha256, feed.index.feed);
    }
    for (const d of details) {
      const feed = feedBySha.get(d.body.sha256);
      const at = t[SUBJECTS.published].get(d.body.id);
      const from = feed ? requestedAt.get(feed) : undefined;
      if (at !== undefined && from !== undefined) samples.push(at - from);
    }
    return {
      offeredPerSecond: rate,
      updates: samples.length,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      hops: hopLatencies(t),
    };
  } finally {
    await pipeline.stop();
  }
}

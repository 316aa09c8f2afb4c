import { buildFeed, createTestPki, eventually, Pipeline } from '@sup/testing';
import { join } from 'node:path';
import { fmt, percentile } from './stats';

interface Detail {
  state: string;
  history: { state: string; time: string }[];
}

export interface PipelineResult {
  updates: number;
  wallSeconds: number;
  updatesPerSecond: number;
  stages: Record<string, { p50: number; p99: number }>;
}

const STAGES: [string, string, string][] = [
  ['sync → imported', 'requested', 'imported'],
  ['imported → checksum-verified', 'imported', 'checksum-verified'],
  ['checksum-verified → validated', 'checksum-verified', 'validated'],
  ['validated → published', 'validated', 'published'],
  ['sync → published (end to end)', 'requested', 'published'],
];

/** N small signed updates through the five running services, from the sync request to `published`. */
export async function benchPipeline(workDir: string, count: number): Promise<PipelineResult> {
  const pki = await createTestPki(join(workDir, 'pki'));
  const updates = Array.from({ length: count }, (_, i) => ({
    kind: 'software',
    component: i % 2 ? 'agent' : 'relay',
    platform: 'linux-x86_64',
    version: `20.2.${i}-${5000 + i}`,
    content: 4096,
  }));
  process.stdout.write(`signing ${count} updates with openssl…\n`);
  const feed = await buildFeed(join(workDir, 'feed'), pki, { updates });
  const pipeline = await Pipeline.start({
    trustAnchors: pki.trustAnchorsPem,
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    const requested = Date.now();
    const sync = await pipeline.api<{ id: string }>('POST', '/v1/feeds/sync', { url: feed.url });
    await eventually(
      async () => {
        const res = await pipeline.api<{ total: number }>(
          'GET',
          '/v1/updates?state=published&limit=1',
        );
        return res.body.total >= count ? true : undefined;
      },
      `${count} updates published`,
      900_000,
      1_000,
    );
    const wallSeconds = (Date.now() - requested) / 1000;
    const list = await pipeline.api<{ items: { id: string }[] }>('GET', `/v1/updates?limit=500`);
    const samples: Record<string, number[]> = Object.fromEntries(
      STAGES.map(([label]) => [label, []]),
    );
    for (const { id } of list.body.items) {
      const detail = (await pipeline.api<Detail>('GET', `/v1/updates/${id}`)).body;
      const at: Record<string, number> = { requested };
      for (const h of detail.history) at[h.state] = Date.parse(h.time);
      for (const [label, from, to] of STAGES) {
        if (at[from] !== undefined && at[to] !== undefined) samples[label]?.push(at[to] - at[from]);
      }
    }
    const stages = Object.fromEntries(
      Object.entries(samples).map(([label, v]) => [
        label,
        { p50: percentile(v, 50), p99: percentile(v, 99) },
      ]),
    );
    process.stdout.write(
      `pipeline: ${count} updates in ${fmt(wallSeconds)} s (${fmt(count / wallSeconds)} updates/s), sync ${sync.body.id}\n`,
    );
    return { updates: count, wallSeconds, updatesPerSecond: count / wallSeconds, stages };
  } finally {
    await pipeline.stop();
  }
}

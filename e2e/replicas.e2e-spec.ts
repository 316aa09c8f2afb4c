import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SERVICE_NAMES, SUBJECTS, typeFilter, type Subject } from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline, sleep } from '@sup/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, SYNC_FINISHED, type SyncStatus } from './helpers';

jest.setTimeout(900_000);

const COUNT = 1_000;
const CORRUPT_EVERY = 50; // 20 updates whose bytes do not match their published SHA-256

/** How many updates are in `state`, from the listing's total. */
async function countIn(p: Pipeline, state: string): Promise<number> {
  const res = await p.api<{ total: number }>('GET', `/v1/updates?state=${state}&limit=1`);
  return res.body.total;
}

/** Updates in a final state (published or rejected). */
async function finished(p: Pipeline): Promise<number> {
  return (await countIn(p, 'published')) + (await countIn(p, 'rejected'));
}

/** Every message stored on `<type>.*`, as a subscriber reading the stream from the start sees it. */
async function entitiesOnStream(nc: NatsConnection, type: Subject): Promise<string[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get('UPDATES', { filter_subjects: typeFilter(type) });
  const info = await consumer.info();
  const ids: string[] = [];
  if (info.num_pending === 0) return ids;
  for await (const m of await consumer.consume({ max_messages: 500 })) {
    ids.push(m.subject.slice(type.length + 1));
    if (m.info.pending === 0) break;
  }
  return ids;
}

describe('two replicas of every service, each killed in turn during a 1,000-update sync', () => {
  let pipeline: Pipeline;
  let feedUrl: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-replicas-'));
    const pki = await createTestPki(join(root, 'pki'));
    const updates = Array.from({ length: COUNT }, (_, i) => ({
      kind: 'software',
      component: i % 2 ? 'agent' : 'relay',
      platform: 'linux-x86_64',
      version: `21.0.${i}-${7000 + i}`,
      content: 1024,
      ...(i % CORRUPT_EVERY === 7 ? { tamper: 'corrupt' as const } : {}),
    }));
    feedUrl = (await buildFeed(join(root, 'feed'), pki, { updates })).url;
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      replicas: 2,
      env: {
        ...allowFeeds(pathToFileURL(root).href),
        // Small batches and short ack waits: kills land mid-batch and redeliveries come quickly.
        JS_BATCH_SIZE: '32',
        JS_ACK_WAIT_MS: '3000',
        JS_BACKOFF_MS: '200,500,1000',
        JS_MAX_DELIVER: '10',
        FEED_IMPORT_CONCURRENCY: '4',
        LOG_LEVEL: 'warn',
      },
    });
  });
  afterAll(() => pipeline?.stop());

  it('brings every update to exactly one final state, each announced once on the stream', async () => {
    const started = await pipeline.api<{ id: string }>('POST', '/v1/feeds/sync', {
      url: feedUrl,
    });
    expect(started.status).toBe(202);

    const restarts: Promise<void>[] = [];
    const finishedAtKill: number[] = [];
    // The first kill waits until updates are finishing; the others follow at a steady pace, so
    // each lands in a different phase and all of them while work is still on its way (waiting for
    // fresh progress before each one let a six-service loop outlast a 1,000-update sync).
    await eventually(
      async () => ((await finished(pipeline)) > 0 ? true : undefined),
      'the first finished update',
      120_000,
      50,
    );
    for (const [turn, service] of SERVICE_NAMES.entries()) {
      if (turn > 0) await sleep(400);
      finishedAtKill.push(await finished(pipeline));
      const replica = turn % 2;
      await pipeline.kill(service, replica);
      // The other replica carries on alone while this one comes back.
      restarts.push(sleep(300).then(() => pipeline.startService(service, replica)));
    }
    await Promise.all(restarts);
    // Every kill landed while updates were still on their way.
    expect(Math.max(...finishedAtKill)).toBeLessThan(COUNT);

    const sync = await eventually(
      async () => {
        const s = await pipeline.api<SyncStatus>('GET', `/v1/feeds/syncs/${started.body.id}`);
        return SYNC_FINISHED.has(s.body.state) ? s.body : undefined;
      },
      'the sync to finish',
      600_000,
      500,
    );
    expect(sync).toMatchObject({ state: 'completed', imported: COUNT, failed: 0, pending: 0 });

    const corrupt = COUNT / CORRUPT_EVERY;
    await eventually(
      async () =>
        (await countIn(pipeline, 'published')) === COUNT - corrupt &&
        (await countIn(pipeline, 'rejected')) === corrupt
          ? true
          : undefined,
      'every update in its final state',
      600_000,
      500,
    );
    const all = await pipeline.api<{ total: number }>('GET', '/v1/updates?limit=1');
    expect(all.body.total).toBe(COUNT);

    const nc: NatsConnection = await pipeline.connectNats();
    try {
      for (const [type, expected] of [
        [SUBJECTS.imported, COUNT],
        [SUBJECTS.published, COUNT - corrupt],
        [SUBJECTS.rejected, corrupt],
      ] as const) {
        const ids = await entitiesOnStream(nc, type);
        expect({ type, stored: ids.length }).toEqual({ type, stored: expected });
        expect(new Set(ids).size).toBe(expected);
      }
    } finally {
      await nc.close();
    }
  });
});

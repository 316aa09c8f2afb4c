import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { SUBJECTS, typeFilter, type Subject } from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline, type TestPki } from '@sup/testing';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, settled, syncAndWait } from './helpers';

jest.setTimeout(240_000);

async function entitiesOnStream(nc: NatsConnection, type: Subject): Promise<string[]> {
  const consumer = await jetstream(nc).consumers.get('UPDATES', {
    filter_subjects: typeFilter(type),
  });
  if ((await consumer.info()).num_pending === 0) return [];
  const ids: string[] = [];
  for await (const m of await consumer.consume({ max_messages: 100 })) {
    ids.push(m.subject.slice(type.length + 1));
    if (m.info.pending === 0) break;
  }
  return ids;
}

/**
 * The fault is made in NATS, not in the services: the UPDATES stream is capped at the messages it
 * holds with `discard: new`, so JetStream refuses every publish to it (as it would when its
 * storage is full) until the cap is lifted.
 */
describe('a publish that fails on the last delivery is announced after recovery, once', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let root: string;
  let nc: NatsConnection;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-outbox-'));
    pki = await createTestPki(join(root, 'pki'));
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      // Every delivery is the last one: a failed publish cannot rely on a retry of the input.
      env: { JS_MAX_DELIVER: '1', OUTBOX_SWEEP_MS: '500', ...allowFeeds(pathToFileURL(root).href) },
    });
    nc = await pipeline.connectNats();
  });
  afterAll(async () => {
    await nc?.close();
    await pipeline?.stop();
  });

  it('queues the decisions while the stream refuses them and publishes each once after', async () => {
    const warmUp = await buildFeed(join(root, 'first'), pki, {
      feed: 'first',
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-100' }],
    });
    await syncAndWait(pipeline, warmUp.url);
    await settled(pipeline, 1);

    const jsm = await jetstreamManager(nc);
    const { config, state } = await jsm.streams.info('UPDATES');
    await jsm.streams.update('UPDATES', {
      ...config,
      max_msgs: state.messages,
      discard: DiscardPolicy.New,
    });

    const feed = await buildFeed(join(root, 'second'), pki, {
      feed: 'second',
      updates: ['26-101', '26-102', '26-103'].map((version) => ({
        kind: 'security',
        component: 'firewall-rules',
        version,
      })),
    });
    // The entries are imported and acknowledged: their records are stored, their events queued.
    const sync = await syncAndWait(pipeline, feed.url);
    expect(sync).toMatchObject({ state: 'completed', imported: 3 });
    expect((await jsm.streams.info('UPDATES')).state.messages).toBe(state.messages);
    const log = await readFile(pipeline.logFile('ingest'), 'utf8');
    expect(log).toMatch(/queued in the outbox/);

    await jsm.streams.update('UPDATES', { ...config, max_msgs: -1, discard: DiscardPolicy.Old });
    const items = await settled(pipeline, 4);
    expect(items.every((u) => u.state === 'published')).toBe(true);

    const imported = await entitiesOnStream(nc, SUBJECTS.imported);
    const published = await entitiesOnStream(nc, SUBJECTS.published);
    expect(imported).toHaveLength(4);
    expect(new Set(imported).size).toBe(4);
    expect(published).toHaveLength(4);
    expect(new Set(published).size).toBe(4);
    // The outbox drained: a later sweep has nothing left to publish.
    await eventually(
      async () => ((await jsm.streams.info('UPDATES')).state.messages === 16 ? true : undefined),
      'the stream to hold four steps of four updates, nothing more',
    );
  });
});

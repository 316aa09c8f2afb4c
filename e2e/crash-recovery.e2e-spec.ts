import { buildFeed, createTestPki, eventually, Pipeline, sleep, type TestPki } from '@sup/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, settled, SYNC_FINISHED } from './helpers';

jest.setTimeout(300_000);

const COUNT = 40;

describe('crash recovery: SIGKILL in the middle of a sync loses nothing', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let feedUrl: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-crash-'));
    pki = await createTestPki(join(root, 'pki'));
    const updates = Array.from({ length: COUNT }, (_, i) => ({
      kind: 'software',
      component: i % 2 ? 'agent' : 'relay',
      platform: 'linux-x86_64',
      version: `20.1.${i}-${1000 + i}`,
      content: 256 * 1024,
    }));
    feedUrl = (await buildFeed(join(root, 'feed'), pki, { updates })).url;
    // One import at a time makes the kill land mid-sync rather than after it.
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: { FEED_IMPORT_CONCURRENCY: '1', ...allowFeeds(pathToFileURL(root).href) },
    });
  });
  afterAll(() => pipeline?.stop());

  it('resumes the sync after ingest and checksum are killed and restarted', async () => {
    const started = await pipeline.api<{ id: string }>('POST', '/v1/feeds/sync', { url: feedUrl });
    expect(started.status).toBe(202);
    await eventually(async () => {
      const s = await pipeline.api<{ imported: number }>(
        'GET',
        `/v1/feeds/syncs/${started.body.id}`,
      );
      return s.body.imported >= 5 ? true : undefined;
    }, 'the sync to be under way');
    await Promise.all([pipeline.kill('ingest'), pipeline.kill('checksum')]);
    await sleep(500);
    await Promise.all([pipeline.startService('ingest'), pipeline.startService('checksum')]);

    const sync = await eventually(
      async () => {
        const s = await pipeline.api<{ state: string; imported: number }>(
          'GET',
          `/v1/feeds/syncs/${started.body.id}`,
        );
        return SYNC_FINISHED.has(s.body.state) ? s.body : undefined;
      },
      'the resumed sync to finish',
      180_000,
    );
    expect(sync).toMatchObject({ state: 'completed', imported: COUNT });

    const items = await settled(pipeline, COUNT);
    expect(items.every((u) => u.state === 'published')).toBe(true);
    expect(new Set(items.map((u) => u.id)).size).toBe(COUNT);
    // Exactly one published event per update, however often messages were redelivered.
    for (const u of items.slice(0, 10)) {
      const detail = await pipeline.api<{ history: { state: string }[] }>(
        'GET',
        `/v1/updates/${u.id}`,
      );
      expect(detail.body.history.filter((h) => h.state === 'published')).toHaveLength(1);
    }
  });
});

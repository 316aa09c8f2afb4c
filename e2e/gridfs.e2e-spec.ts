import { buildFeed, createTestPki, Pipeline } from '@sup/testing';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait } from './helpers';

jest.setTimeout(240_000);

describe('artifact store on GridFS (clusters without a shared volume)', () => {
  let pipeline: Pipeline;

  afterAll(() => pipeline?.stop());

  it('runs the pipeline with artifacts kept in MongoDB instead of DATA_DIR', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-gridfs-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        {
          kind: 'software',
          component: 'agent',
          platform: 'linux-x86_64',
          version: '20.0.3-1',
          content: 3 * 1024 * 1024,
        },
        { kind: 'security', component: 'firewall-rules', version: '26-080', tamper: 'corrupt' },
      ],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: { ARTIFACT_STORE: 'gridfs', ...allowFeeds(pathToFileURL(root).href) },
    });
    expect(await syncAndWait(pipeline, feed.url)).toMatchObject({
      state: 'completed',
      imported: 2,
    });
    const items = await settled(pipeline, 2);
    expect(find(items, 'agent', '20.0.3-1').state).toBe('published');
    expect(find(items, 'firewall-rules', '26-080').rejection).toMatchObject({ stage: 'checksum' });
    expect(existsSync(join(pipeline.workDir, 'data/artifacts'))).toBe(false);
  });
});

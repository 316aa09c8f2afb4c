import { buildFeed, createTestPki, Pipeline, type TestPki } from '@sup/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(240_000);

const agent = { kind: 'software', component: 'agent', platform: 'linux-x86_64' };
/** One build's bytes, listed twice: once spelt with a dash, once with a dot. */
const build = randomBytes(8192);

/**
 * One feed, imported by a self-hosted manager and by a hosted one (each its own stack, so the
 * second import is not "unchanged"): versions are normalised before ids are made, an unreadable
 * one is refused by name, and minManagerVersion binds only the self-hosted manager.
 */
describe('versions: one build in two spellings, and the minimum manager version', () => {
  let pki: TestPki;
  let feedDir: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-versions-'));
    pki = await createTestPki(join(root, 'pki'));
    feedDir = join(root, 'feed');
    await buildFeed(feedDir, pki, {
      updates: [
        { ...agent, version: '20.0.1-12345', content: build },
        { ...agent, version: '20.0.1.12345', content: build },
        // Needs a manager newer than MANAGER_VERSION (default 20.0.0).
        { ...agent, version: '20.0.2-1', entry: { minManagerVersion: '99.0' } },
        // Needs one this manager is: published everywhere.
        { ...agent, version: '20.0.2-2', entry: { minManagerVersion: '20.0' } },
        // Not a version: refused at import, never read as 20.0.3.
        { ...agent, version: '20.0.3-1', entry: { version: '20.0.3-beta' } },
      ],
    });
  });

  async function importWith(env: Record<string, string>): Promise<UpdateItem[]> {
    const pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: { ...allowFeeds(pathToFileURL(feedDir).href), ...env },
    });
    try {
      const sync = await syncAndWait(pipeline, pathToFileURL(feedDir).href + '/');
      expect(sync).toMatchObject({ state: 'completed', total: 5, failed: 0 });
      // Five entries, four updates: the two spellings of 20.0.1.12345 are one.
      return await settled(pipeline, 4);
    } finally {
      await pipeline.stop();
    }
  }

  const sameBuild = (items: UpdateItem[]) =>
    items.filter((u) => ['20.0.1-12345', '20.0.1.12345'].includes(u.version));

  describe('self-hosted (the default)', () => {
    let items: UpdateItem[];
    beforeAll(async () => {
      items = await importWith({});
    });

    it('keeps one update for 20.0.1-12345 and 20.0.1.12345, and publishes it', () => {
      const builds = sameBuild(items);
      expect(builds).toHaveLength(1);
      expect(builds[0].state).toBe('published');
    });

    it('refuses a package that needs a newer manager at stage policy (manager-too-old)', () => {
      expect(find(items, 'agent', '20.0.2-1')).toMatchObject({
        state: 'rejected',
        rejection: {
          stage: 'policy',
          code: 'manager-too-old',
          reason: expect.stringMatching(/needs manager 99\.0 or newer; this manager is 20\.0\.0/),
        },
      });
      expect(find(items, 'agent', '20.0.2-2').state).toBe('published');
    });

    it('refuses an unreadable version at import with its code', () => {
      expect(find(items, 'agent', '20.0.3-beta')).toMatchObject({
        state: 'rejected',
        rejection: { stage: 'feed', code: 'invalid-software-version' },
      });
    });
  });

  describe('hosted (MANAGER_MODE=hosted)', () => {
    let items: UpdateItem[];
    beforeAll(async () => {
      items = await importWith({ MANAGER_MODE: 'hosted' });
    });

    it('ignores minManagerVersion, as the reference product’s hosted service does', () => {
      expect(find(items, 'agent', '20.0.2-1').state).toBe('published');
      expect(find(items, 'agent', '20.0.2-2').state).toBe('published');
    });

    it('normalises versions and refuses unreadable ones all the same', () => {
      expect(sameBuild(items)).toHaveLength(1);
      expect(find(items, 'agent', '20.0.3-beta').rejection?.code).toBe('invalid-software-version');
    });
  });
});

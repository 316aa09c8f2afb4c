import { jetstreamManager } from '@nats-io/jetstream';
import { SERVICE_NAMES, SUBJECTS, type AuditPage, type ServiceName } from '@sup/contracts';
import {
  buildFeed,
  bundleFilesOf,
  createTestPki,
  eventually,
  multipartBundle,
  Pipeline,
  startGateway,
  tarBundle,
  type BundleFileSpec,
  type TestPki,
} from '@sup/testing';
import { existsSync, mkdtempSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates, settled, syncAndWait } from './helpers';

jest.setTimeout(240_000);

interface Imported {
  id: string;
  feed: string;
  sequence: number;
  entries: { updateId: string; state: string; created: boolean; version: string }[];
}
interface Refused {
  message: string;
  details?: string[];
}

/**
 * Manual imports end to end: bundles of what a vendor signs, made and signed at test time, sent
 * to ingest (and through the npm start gateway) as real processes with real NATS and FerretDB.
 */
describe('manual imports take only signed bundles', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let root: string;
  let gateway: Server;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-e2e-import-'));
    pki = await createTestPki(join(root, 'pki'));
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(root).href),
    });
    const ports = new Map<ServiceName, number>();
    for (const name of SERVICE_NAMES) {
      const port = pipeline.ports.get(name);
      if (port) ports.set(name, port);
    }
    gateway = await startGateway(0, '127.0.0.1', ports);
  });
  afterAll(async () => {
    gateway?.closeAllConnections();
    await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
    await pipeline?.stop();
  });

  const dataDir = (): string => join(pipeline.workDir, 'data');
  const uploadsLeft = async (): Promise<string[]> => {
    const dir = join(dataDir(), 'uploads');
    return existsSync(dir) ? readdir(dir) : [];
  };
  /** Every file the fs artifact store holds (its own temp directory included). */
  const storeFiles = async (): Promise<string[]> => {
    const dir = join(dataDir(), 'artifacts');
    if (!existsSync(dir)) return [];
    // Relative names (Dirent.parentPath needs Node 20.12; engines allow 20.11).
    const names = await readdir(dir, { recursive: true });
    const files: string[] = [];
    for (const name of names) {
      // A store temp file may be gone between the listing and its stat.
      if ((await stat(join(dir, name)).catch(() => undefined))?.isFile()) files.push(name);
    }
    return files.sort();
  };

  const feed = (name: string, opts: Partial<Parameters<typeof buildFeed>[2]> = {}) =>
    buildFeed(join(root, name), pki, {
      feed: name,
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-080' }],
      ...opts,
    });
  const importForm = <T>(files: BundleFileSpec[], as: 'operator' | 'viewer' = 'operator') =>
    pipeline.api<T>('POST', '/v1/imports', multipartBundle(files), { as });
  const replace = (files: BundleFileSpec[], path: string, bytes: Buffer): BundleFileSpec[] =>
    files.map((f) => (f.path === path ? { path, bytes } : f));
  const published = (updateId: string) =>
    eventually(async () => {
      const u = await pipeline.api<{ state: string }>('GET', `/v1/updates/${updateId}`);
      return u.body?.state === 'published' ? u.body : undefined;
    }, `${updateId} to be published`);
  const versions = async (): Promise<string[]> =>
    (await allUpdates(pipeline)).map((u) => u.version);

  it('imports a signed bundle, publishes it as the operator imported it, and answers 200 for the same bundle again', async () => {
    const f = await feed('vendor-manual', {
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-081' },
        { kind: 'software', component: 'agent', platform: 'linux-arm64', version: '20.0.2-100' },
      ],
    });
    const files = await bundleFilesOf(f);
    const viewer = await importForm<Refused>(files, 'viewer');
    expect(viewer.status).toBe(403);

    const first = await importForm<Imported>(files);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ feed: 'vendor-manual', sequence: 1 });
    expect(first.body.entries.map((e) => [e.version, e.state, e.created])).toEqual([
      ['26-081', 'imported', true],
      ['20.0.2-100', 'imported', true],
    ]);
    for (const e of first.body.entries) await published(e.updateId);

    // The event says who imported it, exactly like a feed entry otherwise.
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const [entry] = first.body.entries;
      const stored = await jsm.streams.getMessage('UPDATES', {
        last_by_subj: `${SUBJECTS.imported}.${entry.updateId}`,
      });
      expect(stored?.json<{ data: { update: { source: unknown } } }>().data.update.source).toEqual({
        type: 'manual',
        importId: first.body.id,
        importedBy: { type: 'token', name: 'test-operator', role: 'operator' },
      });
    } finally {
      await nc.close();
    }

    // Same bundle as a tar: same import id, same updates, nothing new.
    const tar = await tarBundle(files);
    const again = await fetch(`http://127.0.0.1:${pipeline.ports.get('ingest')}/v1/imports`, {
      method: 'POST',
      body: tar,
      headers: { 'content-type': 'application/x-tar', ...pipeline.authHeaders('operator') },
    });
    expect(again.status).toBe(200);
    const body = (await again.json()) as Imported;
    expect(body.id).toBe(first.body.id);
    expect(body.entries.map((e) => [e.updateId, e.created])).toEqual(
      first.body.entries.map((e) => [e.updateId, false]),
    );
  });

  it('refuses an old signed artifact replayed under a new version, and an old index once a newer one is in', async () => {
    const startedAt = new Date().toISOString();
    const size = 8192;
    const v1 = await feed('vendor-replay-1', {
      feed: 'vendor-replay',
      sequence: 1,
      updates: [
        {
          kind: 'software',
          component: 'relay',
          platform: 'linux-x86_64',
          version: '20.0.1-1',
          content: size,
        },
      ],
    });
    const v2 = await feed('vendor-replay-2', {
      feed: 'vendor-replay',
      sequence: 2,
      updates: [
        {
          kind: 'software',
          component: 'relay',
          platform: 'linux-x86_64',
          version: '20.0.2-1',
          content: size,
        },
      ],
    });
    const old = await bundleFilesOf(v1);
    expect((await importForm<Imported>(old)).status).toBe(202);

    // The new signed index, with the old (genuinely signed) artifact and signature under its paths.
    const fresh = await bundleFilesOf(v2);
    const [, , newArtifact, newSignature] = fresh;
    const [, , oldArtifact, oldSignature] = old;
    const replay = replace(
      replace(fresh, newArtifact.path, oldArtifact.bytes),
      newSignature.path,
      oldSignature.bytes,
    );
    const refused = await importForm<Refused>(replay);
    expect(refused.status).toBe(422);
    expect(refused.body.details).toEqual(['sha256-mismatch']);
    expect(refused.body.message).toContain(newArtifact.path);
    expect(await versions()).not.toContain('20.0.2-1');

    // A valid import after a refused one goes through.
    const genuine = await importForm<Imported>(fresh);
    expect(genuine.status).toBe(202);
    await published(genuine.body.entries[0].updateId);

    // Sequence 2 is accepted for this feed name: the old index is a rollback now.
    const rollback = await importForm<Refused>(old);
    expect(rollback.status).toBe(422);
    expect(rollback.body.details).toEqual(['index-refused']);
    expect(rollback.body.message).toMatch(/rollback|older/);

    // Every import of this test is on the audit log, in order, with who did it and why.
    const actions = await eventually(async () => {
      const page = await pipeline.api<AuditPage>('GET', '/v1/audit?limit=500');
      const found = page.body.items.flatMap((i) =>
        'record' in i &&
        i.record.summary?.action === 'manual-import' &&
        String(i.record.summary.actedAt) >= startedAt
          ? [i.record]
          : [],
      );
      return found.length >= 4 ? found : undefined;
    }, 'manual imports on the audit log');
    expect(actions.map((r) => r.actor?.name)).toEqual(Array(4).fill('test-operator'));
    expect(actions.map((r) => `${r.summary?.outcome} ${r.summary?.reason ?? ''}`)).toEqual([
      expect.stringMatching(/^accepted feed vendor-replay sequence 1: upd_/),
      expect.stringMatching(/^refused sha256-mismatch: /),
      expect.stringMatching(/^accepted feed vendor-replay sequence 2: upd_/),
      expect.stringMatching(/^refused index-refused: /),
    ]);
  });

  it('refuses junk under a genuine entry before its sync, and the sync then publishes the genuine entry', async () => {
    const f = await feed('vendor-squat', {
      updates: [
        { kind: 'security', component: 'log-inspection-rules', version: '26-090', content: 4096 },
      ],
    });
    const files = await bundleFilesOf(f);
    const [, , artifact, signature] = files;
    const junkArtifact = await importForm<Refused>(
      replace(files, artifact.path, Buffer.alloc(artifact.bytes.length, 0x5a)),
    );
    expect(junkArtifact.status).toBe(422);
    expect(junkArtifact.body.details).toEqual(['sha256-mismatch']);
    const rogue = await pki.signBuffer(artifact.bytes, 'rogue');
    const junkSignature = await importForm<Refused>(replace(files, signature.path, rogue));
    expect(junkSignature.status).toBe(422);
    expect(junkSignature.body.details).toEqual(['signature-invalid']);
    expect(await versions()).not.toContain('26-090');

    const before = (await allUpdates(pipeline)).length;
    const sync = await syncAndWait(pipeline, f.url);
    expect(sync).toMatchObject({ state: 'completed', imported: 1, rejected: 0 });
    const items = await settled(pipeline, before + 1);
    expect(items.find((u) => u.version === '26-090')?.state).toBe('published');
  });

  it('cuts an oversize part off at its limit and leaves nothing in the upload directory or the store', async () => {
    const f = await feed('vendor-big', {
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-095', content: 4096 },
      ],
    });
    const files = await bundleFilesOf(f);
    const [, , artifact, signature] = files;
    const store = await storeFiles();

    const big = await importForm<Refused>(
      replace(files, artifact.path, Buffer.alloc(64 * 1024 * 1024, 1)),
    );
    expect(big.status).toBe(413);
    expect(big.body.message).toContain(artifact.path);
    expect(big.body.message).toContain('4096');

    const hugeSignature = await importForm<Refused>(
      replace(files, signature.path, Buffer.alloc(100 * 1024 * 1024, 2)),
    );
    expect(hugeSignature.status).toBe(413);
    expect(hugeSignature.body.message).toContain(signature.path);

    expect(await uploadsLeft()).toEqual([]);
    expect(await storeFiles()).toEqual(store);
    expect(await versions()).not.toContain('26-095');
  });

  /**
   * Sends the first `cut` bytes of a multipart bundle to `port` and never the rest, then aborts
   * once ingest has begun writing the artifact to its upload directory.
   */
  async function abortMidUpload(port: number, files: BundleFileSpec[], cut: number): Promise<void> {
    const form = new Response(multipartBundle(files));
    const bytes = Buffer.from(await form.arrayBuffer());
    const client = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/imports',
      headers: {
        'content-type': form.headers.get('content-type') ?? '',
        'content-length': String(bytes.length),
        ...pipeline.authHeaders('operator'),
      },
    });
    client.on('error', () => undefined);
    client.write(bytes.subarray(0, cut));
    await eventually(async () => {
      const dirs = await uploadsLeft();
      for (const d of dirs) {
        if ((await readdir(join(dataDir(), 'uploads', d))).length > 0) return true;
      }
      return undefined;
    }, 'ingest to start writing the artifact');
    client.destroy();
  }

  it('removes what an aborted upload wrote, directly and through the gateway, and takes the bundle afterwards', async () => {
    const f = await feed('vendor-abort', {
      updates: [
        {
          kind: 'software',
          component: 'agent',
          platform: 'windows-x86_64',
          version: '20.0.3-7',
          content: 4 * 1024 * 1024,
        },
      ],
    });
    const files = await bundleFilesOf(f);
    const store = await storeFiles();
    // Past the index, its signature and the start of the 4 MiB artifact.
    const cut = files[0].bytes.length + files[1].bytes.length + 1024 * 1024;

    await abortMidUpload(pipeline.ports.get('ingest') ?? 0, files, cut);
    await eventually(
      async () => ((await uploadsLeft()).length === 0 ? true : undefined),
      'direct abort cleaned up',
    );

    await abortMidUpload((gateway.address() as AddressInfo).port, files, cut);
    await eventually(
      async () => ((await uploadsLeft()).length === 0 ? true : undefined),
      'abort through the gateway cleaned up',
    );
    expect(await storeFiles()).toEqual(store);
    expect(await versions()).not.toContain('20.0.3-7');

    // Nothing is held: every upload slot is free and the same bundle now imports.
    const ok = await importForm<Imported>(files);
    expect(ok.status).toBe(202);
    await published(ok.body.entries[0].updateId);
  });
});

import { jetstreamManager } from '@nats-io/jetstream';
import { SUBJECTS } from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline, type RelayHandle } from '@sup/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(300_000);

interface RelayCatalogEntry {
  updateId: string;
  sha256: string;
  size: number;
  artifactUrl: string;
  signatureUrl: string;
  held: boolean;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * The relay process (services/relay) against the real pipeline: a published update is verified
 * and cached by a relay and announced once per (update, relay) on `updates.v1.relayed`; agents get
 * its bytes with Range, ETag and the digest header; a file corrupted in the relay's cache is never
 * served whole and is fetched again; a relay with other trust anchors keeps nothing and reports
 * `signature-invalid`; a restarted relay recovers its cache from disk.
 */
describe('relay', () => {
  let pipeline: Pipeline;
  let good: RelayHandle;
  let forged: RelayHandle;
  let updates: UpdateItem[];
  const big = Buffer.alloc(2 * 1024 * 1024 + 77);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-relay-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-101' },
        {
          kind: 'security',
          component: 'intrusion-prevention-rules',
          version: '26-201',
          content: big,
        },
      ],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(root).href),
      relays: [{ id: 'site-a' }],
    });
    // `site-a` trusts the vendor's root; `site-x` only a rogue root, so every signature is forged to it.
    good = await pipeline.startRelay({ relayId: 'site-a', group: 'branch' });
    forged = await pipeline.startRelay({
      relayId: 'site-x',
      group: 'branch',
      trustAnchors: pki.rogueRootPem,
    });
    // Both known to the control plane (their first reports) before anything is published.
    for (const relay of [good, forged])
      await eventually(async () => {
        const res = await pipeline.api('GET', `/v1/relays/${relay.relayId}`, undefined, {
          as: 'viewer',
        });
        return res.status === 200 ? true : undefined;
      }, `relay ${relay.relayId} to be known`);
    await syncAndWait(pipeline, feed.url);
    updates = await settled(pipeline, 2);
  });
  afterAll(() => pipeline?.stop());

  const relayStates = async (updateId: string) =>
    (
      await pipeline.api<{ relays?: { relayId: string; state: string }[] }>(
        'GET',
        `/v1/updates/${updateId}`,
        undefined,
        { as: 'viewer' },
      )
    ).body.relays ?? [];

  /** Messages per subject on UPDATES under a filter. */
  const subjects = async (filter: string): Promise<Record<string, number>> => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('UPDATES', { subjects_filter: filter });
      return info.state.subjects ?? {};
    } finally {
      await nc.close();
    }
  };

  const fromRelay = (relay: RelayHandle, path: string, headers: Record<string, string> = {}) =>
    fetch(`${relay.url.replace(/\/v1$/, '')}${path}`, {
      headers: { authorization: `Bearer ${pipeline.agentToken()}`, ...headers },
    });

  it('verifies and caches each published update, announced once per (update, relay)', async () => {
    for (const u of updates)
      await eventually(async () => {
        const states = await relayStates(u.id);
        const a = states.find((s) => s.relayId === 'site-a')?.state;
        const x = states.find((s) => s.relayId === 'site-x')?.state;
        return a === 'relayed' && x === 'failed' ? true : undefined;
      }, `${u.component} relayed by site-a and failed at site-x`);
    const relayed = await subjects(`${SUBJECTS.relayed}.>`);
    for (const u of updates) {
      expect(relayed[`${SUBJECTS.relayed}.${u.id}-site-a`]).toBe(1);
      expect(relayed[`${SUBJECTS.relayed}.${u.id}-site-x`]).toBeUndefined();
    }
    const held = readdirSync(join(good.cacheDir, 'objects'));
    expect(held).toContain(sha256(big));
    expect(held).toContain(`${sha256(big)}.p7s`);
  });

  it('keeps nothing it cannot verify against its own trust anchors, and says why', async () => {
    expect(readdirSync(join(forged.cacheDir, 'objects'))).toEqual([]);
    const failed = await subjects(`${SUBJECTS.relayFailed}.>`);
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      for (const u of updates) {
        const subject = Object.keys(failed).find((s) =>
          s.startsWith(`${SUBJECTS.relayFailed}.${u.id}-site-x-`),
        );
        expect(subject).toBeDefined();
        const msg = await jsm.streams.getMessage('UPDATES', { last_by_subj: subject as string });
        expect(msg?.json<{ data: { code: string } }>()?.data.code).toBe('signature-invalid');
      }
    } finally {
      await nc.close();
    }
    // An agent asking site-x for it gets nothing either.
    const ips = find(updates, 'intrusion-prevention-rules', '26-201');
    const res = await fromRelay(forged, `/v1/artifacts/${sha256(big)}`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
    expect(ips.id).toBeDefined();
  });

  it('serves agents its catalog and the bytes with Range, ETag and the digest', async () => {
    expect((await fromRelay(good, '/v1/catalog', { authorization: '' })).status).toBe(401);
    const catalog = (await (await fromRelay(good, '/v1/catalog')).json()) as {
      entries: RelayCatalogEntry[];
    };
    const entry = catalog.entries.find((e) => e.sha256 === sha256(big));
    expect(entry).toMatchObject({
      artifactUrl: `/v1/artifacts/${sha256(big)}`,
      signatureUrl: `/v1/artifacts/${sha256(big)}.p7s`,
      held: true,
      size: big.length,
    });
    const whole = await fromRelay(good, entry!.artifactUrl);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${sha256(big)}"`);
    expect(whole.headers.get('x-sup-sha256')).toBe(sha256(big));
    expect(Buffer.from(await whole.arrayBuffer()).equals(big)).toBe(true);
    const part = await fromRelay(good, entry!.artifactUrl, { range: 'bytes=1000-1999' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${big.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(big.subarray(1000, 2000))).toBe(true);
    const past = await fromRelay(good, entry!.artifactUrl, { range: `bytes=${big.length}-` });
    expect(past.status).toBe(416);
    await past.body?.cancel();
    const signature = await fromRelay(good, entry!.signatureUrl);
    expect(signature.status).toBe(200);
    expect(sha256(Buffer.from(await signature.arrayBuffer()))).toBe(
      signature.headers.get('x-sup-sha256'),
    );
  });

  it('never serves a corrupted cached file whole: drops it, reports it and fetches it again', async () => {
    const digest = sha256(big);
    const file = join(good.cacheDir, 'objects', digest);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff; // same size, other bytes
    writeFileSync(file, bytes);

    const res = await fromRelay(good, `/v1/artifacts/${digest}`);
    let received: Buffer | undefined;
    try {
      received = Buffer.from(await res.arrayBuffer());
    } catch {
      received = undefined; // the relay aborted the response
    }
    expect(received === undefined || received.length < big.length).toBe(true);

    // Fetched again and verified: served whole and right, and the event was reported.
    await eventually(async () => {
      const again = await fromRelay(good, `/v1/artifacts/${digest}`);
      if (again.status !== 200) return void (await again.body?.cancel());
      const body = Buffer.from(await again.arrayBuffer());
      return body.equals(big) ? true : undefined;
    }, 'the refetched file');
    const ips = find(updates, 'intrusion-prevention-rules', '26-201');
    // `<update>-<relay>-<attempt>` is one subject token: filter the keys, not with a wildcard.
    const failed = Object.keys(await subjects(`${SUBJECTS.relayFailed}.*`)).filter((s) =>
      s.startsWith(`${SUBJECTS.relayFailed}.${ips.id}-site-a-`),
    );
    expect(failed.length).toBeGreaterThanOrEqual(1);
    // Still once on relayed: the second verification is a duplicate for the control plane.
    expect(
      (await subjects(`${SUBJECTS.relayed}.${ips.id}-site-a`))[
        `${SUBJECTS.relayed}.${ips.id}-site-a`
      ],
    ).toBe(1);
  });

  it('recovers its cache from disk after a kill', async () => {
    await good.kill('SIGKILL');
    await good.restart();
    const catalog = (await (await fromRelay(good, '/v1/catalog')).json()) as {
      entries: RelayCatalogEntry[];
    };
    for (const u of updates)
      expect(catalog.entries.find((e) => e.updateId === u.id)?.held).toBe(true);
  });
});

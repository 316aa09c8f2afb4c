import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { buildFeed, createTestPki, eventually, Pipeline } from '@sup/testing';
import { verifyProvenance, type SignedProvenance } from '@sup/domain';
import { allowFeeds, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(240_000);

interface CatalogEntry {
  updateId: string;
  component: string;
  version: string;
  sha256: string;
  size: number;
  artifactPath: string;
  required: boolean;
  provenance: SignedProvenance;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** The harness's relay token is named `test-relay`: the relay id its results must carry. */
const RELAY = 'test-relay';

/**
 * The relays' control plane against the real services: downloads with Range and resume, an
 * artifact corrupted in the store withdrawn on its next whole read, relays' results once per
 * pair and refused for another relay's credential, relay groups' 4xx cases, and rolling a
 * security component back and forth with its 409s.
 */
describe('relay control plane', () => {
  let pipeline: Pipeline;
  let updates: UpdateItem[];
  const big = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-relay-control-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'security', component: 'firewall-rules', version: '26-001' },
        { kind: 'security', component: 'firewall-rules', version: '26-002' },
        { kind: 'security', component: 'firewall-rules', version: '26-003' },
        { kind: 'security', component: 'firewall-rules', version: '26-004' },
        {
          kind: 'security',
          component: 'intrusion-prevention-rules',
          version: '26-010',
          content: big,
        },
        { kind: 'security', component: 'log-inspection-rules', version: '26-020' },
      ],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(root).href),
    });
    await syncAndWait(pipeline, feed.url);
    updates = await settled(pipeline, 6);
  });
  afterAll(() => pipeline?.stop());

  const bytesOf = async (
    path: string,
    headers: Record<string, string> = {},
    as: 'relay' | 'operator' | 'agent' = 'relay',
  ) => {
    const distribution = pipeline.ports.get('distribution');
    const res = await fetch(`http://127.0.0.1:${distribution}${path}`, {
      headers: { ...pipeline.authHeaders(as), ...headers },
    });
    let body: Buffer | undefined;
    let cut = false;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch {
      cut = true;
    }
    return { res, body, cut };
  };

  it('serves an artifact whole and by range, so an interrupted download resumes', async () => {
    const ips = find(updates, 'intrusion-prevention-rules', '26-010');
    const whole = await bytesOf(`/v1/updates/${ips.id}/artifact`);
    expect(whole.res.status).toBe(200);
    expect(whole.res.headers.get('etag')).toBe(`"${sha256(big)}"`);
    expect(whole.res.headers.get('x-sup-sha256')).toBe(sha256(big));
    expect(whole.body?.equals(big)).toBe(true);

    // A download cut after 1 MiB resumes from there.
    const first = await bytesOf(`/v1/updates/${ips.id}/artifact`, { range: 'bytes=0-1048575' });
    expect(first.res.status).toBe(206);
    expect(first.res.headers.get('content-range')).toBe(`bytes 0-1048575/${big.length}`);
    const rest = await bytesOf(`/v1/updates/${ips.id}/artifact`, { range: 'bytes=1048576-' });
    expect(rest.res.status).toBe(206);
    expect(Buffer.concat([first.body as Buffer, rest.body as Buffer]).equals(big)).toBe(true);

    const past = await bytesOf(`/v1/updates/${ips.id}/artifact`, { range: `bytes=${big.length}-` });
    expect(past.res.status).toBe(416);
    expect(past.res.headers.get('content-range')).toBe(`bytes */${big.length}`);

    const signature = await bytesOf(`/v1/updates/${ips.id}/signature`, {}, 'operator');
    expect(signature.res.status).toBe(200);
    expect(sha256(signature.body as Buffer)).toBe(signature.res.headers.get('x-sup-sha256'));

    // The control plane is the agents' fallback source when none of their relays answers.
    const fallback = await bytesOf(`/v1/updates/${ips.id}/artifact`, {}, 'agent');
    expect(fallback.res.status).toBe(200);
    expect(fallback.body?.equals(big)).toBe(true);

    const viewer = await pipeline.api('GET', `/v1/updates/${ips.id}/artifact`, undefined, {
      as: 'viewer',
    });
    expect(viewer.status).toBe(403);
  });

  it('lists a catalog whose provenance verifies against the published key', async () => {
    expect((await pipeline.api('GET', '/v1/relay-groups/nowhere/catalog')).status).toBe(404);
    expect(
      (await pipeline.api('POST', '/v1/relay-groups', { name: 'site-a' }, { as: 'operator' }))
        .status,
    ).toBe(201);
    const catalog = await pipeline.api<{ entries: CatalogEntry[] }>(
      'GET',
      '/v1/relay-groups/site-a/catalog',
      undefined,
      { as: 'relay' },
    );
    expect(catalog.status).toBe(200);
    const key = await pipeline.api<{ publicKeyPem: string; keyId: string }>(
      'GET',
      '/v1/provenance/key',
      undefined,
      { as: 'agent' },
    );
    expect(catalog.body.entries).toHaveLength(6);
    for (const e of catalog.body.entries) {
      expect(verifyProvenance(e.provenance, key.body.publicKeyPem)).toBe(true);
      expect(e.provenance.record.checks.map((c) => c.name)).toEqual([
        'checksum-verified',
        'signature-validated',
        'published',
      ]);
    }
    const required = catalog.body.entries
      .filter((e) => e.required)
      .map((e) => `${e.component} ${e.version}`);
    expect(required.sort()).toEqual([
      'firewall-rules 26-004',
      'intrusion-prevention-rules 26-010',
      'log-inspection-rules 26-020',
    ]);
  });

  it('publishes relayed once per (update, relay) and refuses another relay id', async () => {
    const lir = find(updates, 'log-inspection-rules', '26-020');
    const body = { results: [{ updateId: lir.id, state: 'relayed', sha256: 'a'.repeat(64) }] };
    // Unknown until it reports: the relay reports itself first.
    expect(
      (await pipeline.api('POST', `/v1/relays/${RELAY}/results`, body, { as: 'relay' })).status,
    ).toBe(409);
    const report = {
      id: RELAY,
      role: 'relay',
      platform: 'linux-x86_64',
      version: '20.0.1-100',
      relayGroup: 'site-a',
      securityUpdates: {},
      seenAt: new Date().toISOString(),
      relay: {
        url: 'http://127.0.0.1:1/v1',
        holds: [],
        merkleRoot: sha256(Buffer.alloc(0)),
        cacheBytes: 0,
        cacheMaxBytes: 1,
      },
    };
    expect(
      (await pipeline.api('POST', '/v1/fleet/reports', { reports: [report] }, { as: 'operator' }))
        .status,
    ).toBe(202);
    await eventually(async () => {
      const r = await pipeline.api<{ group: string }>('GET', `/v1/relays/${RELAY}`, undefined, {
        as: 'relay',
      });
      return r.status === 200 ? r.body : undefined;
    }, 'the relay known');

    const mismatch = await pipeline.api<{ code: string }>(
      'POST',
      '/v1/relays/other-relay/results',
      body,
      { as: 'relay' },
    );
    expect([mismatch.status, mismatch.body.code]).toEqual([403, 'relay-mismatch']);
    const unknown = await pipeline.api<{ code: string }>(
      'POST',
      `/v1/relays/${RELAY}/results`,
      {
        results: [
          { updateId: 'upd_000000000000000000000000', state: 'relayed', sha256: 'a'.repeat(64) },
        ],
      },
      { as: 'relay' },
    );
    expect([unknown.status, unknown.body.code]).toEqual([404, 'unknown-update']);

    const first = await pipeline.api('POST', `/v1/relays/${RELAY}/results`, body, { as: 'relay' });
    expect(first).toEqual({ status: 202, body: { accepted: 1, duplicates: 0 } });
    const again = await pipeline.api('POST', `/v1/relays/${RELAY}/results`, body, { as: 'relay' });
    expect(again).toEqual({ status: 202, body: { accepted: 0, duplicates: 1 } });

    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('UPDATES', { subjects_filter: 'updates.v1.relayed.>' });
      expect(info.state.subjects).toEqual({ [`updates.v1.relayed.${lir.id}-${RELAY}`]: 1 });
    } finally {
      await nc.close();
    }
    const detail = await eventually(async () => {
      const d = await pipeline.api<{ relays: { relayId: string; state: string }[] }>(
        'GET',
        `/v1/updates/${lir.id}`,
      );
      return d.body.relays?.some((r) => r.state === 'relayed') ? d.body : undefined;
    }, 'relayed in the update detail');
    expect(detail.relays).toEqual([expect.objectContaining({ relayId: RELAY, state: 'relayed' })]);
    const summary = await pipeline.api<{ relays: number; allInSync: boolean; pending: number }>(
      'GET',
      '/v1/relays/summary',
    );
    expect(summary.body).toMatchObject({ relays: 1, allInSync: false, pending: 2 });
  });

  it('answers relay groups with clear 4xx', async () => {
    const exists = await pipeline.api<{ code: string }>(
      'POST',
      '/v1/relay-groups',
      { name: 'site-a' },
      { as: 'operator' },
    );
    expect([exists.status, exists.body.code]).toEqual([409, 'group-exists']);
    expect(
      (await pipeline.api('POST', '/v1/relay-groups', { name: 'bad name!' }, { as: 'operator' }))
        .status,
    ).toBe(400);
    const noGroup = await pipeline.api<{ code: string }>(
      'PUT',
      `/v1/relays/${RELAY}/group`,
      { group: 'nowhere' },
      { as: 'operator' },
    );
    expect([noGroup.status, noGroup.body.code]).toEqual([404, 'unknown-group']);
    expect(
      (await pipeline.api('POST', '/v1/relay-groups', { name: 'site-b' }, { as: 'operator' }))
        .status,
    ).toBe(201);
    const moved = await pipeline.api<{ group: string; assignedGroup: string }>(
      'PUT',
      `/v1/relays/${RELAY}/group`,
      { group: 'site-b' },
      { as: 'operator' },
    );
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ group: 'site-b', assignedGroup: 'site-b' });
    const other = await pipeline.api<{ code: string }>(
      'GET',
      '/v1/relays/someone-else',
      undefined,
      { as: 'relay' },
    );
    expect([other.status, other.body.code]).toEqual([403, 'relay-mismatch']);
    const groups = await pipeline.api<{ items: { name: string }[] }>(
      'GET',
      '/v1/relay-groups',
      undefined,
      { as: 'viewer' },
    );
    expect(groups.body.items.map((g) => g.name)).toEqual(['site-a', 'site-b']);
  });

  it('rolls a security component back to a kept update and forward again, refusing the rest', async () => {
    const fw = (v: string) => find(updates, 'firewall-rules', v).id;
    const current = async () => {
      const c = await pipeline.api<{ entries: CatalogEntry[] }>(
        'GET',
        '/v1/relay-groups/site-a/catalog',
      );
      return c.body.entries
        .filter((e) => e.required && e.component === 'firewall-rules')
        .map((e) => e.version);
    };
    const old = await pipeline.api<{ code: string }>(
      'POST',
      `/v1/updates/${fw('26-001')}/apply`,
      undefined,
      { as: 'operator' },
    );
    expect([old.status, old.body.code]).toEqual([409, 'not-kept']);
    const none = await pipeline.api<{ code: string }>(
      'POST',
      '/v1/updates/upd_000000000000000000000000/apply',
      undefined,
      { as: 'operator' },
    );
    expect([none.status, none.body.code]).toEqual([409, 'not-a-published-security-update']);
    expect(
      (await pipeline.api('POST', `/v1/updates/${fw('26-002')}/apply`, undefined, { as: 'viewer' }))
        .status,
    ).toBe(403);

    const back = await pipeline.api('POST', `/v1/updates/${fw('26-002')}/apply`, undefined, {
      as: 'operator',
    });
    expect(back).toEqual({
      status: 200,
      body: {
        component: 'firewall-rules',
        updateId: fw('26-002'),
        version: '26-002',
        pinned: true,
      },
    });
    await eventually(
      async () => ((await current()).join() === '26-002' ? true : undefined),
      'the rollback',
    );
    const forward = await pipeline.api('POST', `/v1/updates/${fw('26-004')}/apply`, undefined, {
      as: 'operator',
    });
    expect(forward.body).toMatchObject({ updateId: fw('26-004'), pinned: false });
    await eventually(
      async () => ((await current()).join() === '26-004' ? true : undefined),
      're-applied',
    );
  });

  it('withdraws an update whose stored bytes were corrupted, on its next whole read', async () => {
    const fw3 = find(updates, 'firewall-rules', '26-003');
    const entry = (
      await pipeline.api<{ entries: CatalogEntry[] }>('GET', '/v1/relay-groups/site-a/catalog')
    ).body.entries.find((e) => e.updateId === fw3.id) as CatalogEntry;
    const file = join(
      pipeline.workDir,
      'data',
      'artifacts',
      'sha256',
      entry.sha256.slice(0, 2),
      entry.sha256,
    );
    // Same size, other bytes: only the digest can tell.
    writeFileSync(file, Buffer.alloc(entry.size, 0x41));

    // Cut before the last bytes: a one-chunk file is cut before anything (headers included) left.
    const read = await bytesOf(`/v1/updates/${fw3.id}/artifact`).catch(() => undefined);
    expect(read === undefined || read.cut || (read.body?.length ?? 0) < entry.size).toBe(true);

    const again = await eventually(async () => {
      const r = await pipeline.api<{ code: string }>(
        'GET',
        `/v1/updates/${fw3.id}/artifact`,
        undefined,
        {
          as: 'relay',
        },
      );
      return r.status === 404 ? r : undefined;
    }, 'the update withdrawn');
    expect(again.body.code).toBe('withdrawn');

    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const info = await eventually(async () => {
        const i = await jsm.streams.info('UPDATES', { subjects_filter: 'updates.v1.withdrawn.>' });
        return i.state.subjects ? i : undefined;
      }, 'the withdrawal event');
      expect(info.state.subjects).toEqual({ [`updates.v1.withdrawn.${fw3.id}`]: 1 });
    } finally {
      await nc.close();
    }
    const catalog = await pipeline.api<{ entries: CatalogEntry[] }>(
      'GET',
      '/v1/relay-groups/site-a/catalog',
    );
    expect(catalog.body.entries.map((e) => e.updateId)).not.toContain(fw3.id);
  });

  it('never delivers a corrupted multi-chunk file whole: the body stops short of Content-Length', async () => {
    const ips = find(updates, 'intrusion-prevention-rules', '26-010');
    const file = join(
      pipeline.workDir,
      'data',
      'artifacts',
      'sha256',
      sha256(big).slice(0, 2),
      sha256(big),
    );
    const corrupt = Buffer.from(big);
    corrupt[corrupt.length - 1] ^= 0xff; // only the very last byte differs
    writeFileSync(file, corrupt);
    const distribution = pipeline.ports.get('distribution');
    const res = await fetch(`http://127.0.0.1:${distribution}/v1/updates/${ips.id}/artifact`, {
      headers: pipeline.authHeaders('relay'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(big.length));
    let received = 0;
    const error = await (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        received += chunk.length;
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(received).toBeLessThan(big.length);
    await eventually(async () => {
      const r = await pipeline.api<{ code: string }>(
        'GET',
        `/v1/updates/${ips.id}/artifact`,
        undefined,
        { as: 'relay' },
      );
      return r.body.code === 'withdrawn' ? true : undefined;
    }, 'the update withdrawn');
  });
});

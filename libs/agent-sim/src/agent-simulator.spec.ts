import { canonicalJson } from '@sup/audit';
import { loadTrustAnchors, type TrustAnchors } from '@sup/integrity';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '@sup/testing';
import { AgentSimulator, seededRandom } from './agent-simulator';
import type { Assignment, CatalogEntry, Provenance } from './types';

/**
 * The simulator against plain local HTTP servers that answer as the shared interface says a
 * control plane and relays do; the bytes and CMS signatures are real (openssl test PKI).
 */

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}/v1`, server };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Artifact {
  updateId: string;
  component: string;
  kind: 'software' | 'security';
  version: string;
  bytes: Buffer;
  signature: Buffer;
}

let dir: string;
let anchors: TrustAnchors;
let agentBuild: Artifact;
let rules: Artifact;
const provenanceKeys = generateKeyPairSync('ed25519');
const servers: Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agent-sim-'));
  const pki = await createTestPki(join(dir, 'pki'));
  anchors = loadTrustAnchors(pki.trustAnchorsPem);
  const make = async (a: Omit<Artifact, 'signature'>): Promise<Artifact> => ({
    ...a,
    signature: await pki.signBuffer(a.bytes, 'rsa'),
  });
  agentBuild = await make({
    updateId: 'upd_aaaaaaaaaaaaaaaaaaaaaaaa',
    component: 'agent',
    kind: 'software',
    version: '20.0.1-200',
    bytes: Buffer.alloc(300_000, 7),
  });
  rules = await make({
    updateId: 'upd_bbbbbbbbbbbbbbbbbbbbbbbb',
    component: 'firewall-rules',
    kind: 'security',
    version: '26-058',
    bytes: Buffer.from('rules 26-058'),
  });
}, 120_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function provenanceOf(a: Artifact, tamper = false): Provenance {
  const record = {
    updateId: a.updateId,
    sha256: sha256(a.bytes),
    signer: { subject: 'CN=Vendor', sha256Fingerprint: 'e'.repeat(64) },
    checks: [{ name: 'cms', passedAt: '2026-01-01T00:00:00.000Z' }],
    issuedAt: '2026-01-01T00:00:00.000Z',
  };
  const signature = sign(null, Buffer.from(canonicalJson(record)), provenanceKeys.privateKey);
  return {
    record: tamper ? { ...record, issuedAt: '2026-01-02T00:00:00.000Z' } : record,
    signature: signature.toString('base64'),
    keyId: 'k1',
  };
}

function entryOf(a: Artifact, urls: 'relay' | 'control-plane', provenance?: Provenance) {
  const digest = sha256(a.bytes);
  const entry: CatalogEntry = {
    updateId: a.updateId,
    kind: a.kind,
    component: a.component,
    version: a.version,
    sha256: digest,
    size: a.bytes.length,
    ...(urls === 'relay'
      ? { artifactUrl: `/v1/artifacts/${digest}`, signatureUrl: `/v1/artifacts/${digest}.p7s` }
      : {
          artifactPath: `/v1/updates/${a.updateId}/artifact`,
          signaturePath: `/v1/updates/${a.updateId}/signature`,
        }),
    ...(provenance ? { provenance } : {}),
  };
  return entry;
}

interface RelayBehaviour {
  holds: Artifact[];
  corrupt?: boolean;
  provenance?: 'good' | 'tampered';
}

/** A relay: its catalog and the bytes by digest, counting what it served. */
async function startRelay(behaviour: RelayBehaviour) {
  const served: string[] = [];
  const { url, server } = await serve((req, res) => {
    const path = req.url ?? '';
    if (req.headers.authorization !== 'Bearer agent-token') return json(res, 401, {});
    if (path === '/v1/catalog') {
      const entries = behaviour.holds.map((a) =>
        entryOf(
          a,
          'relay',
          behaviour.provenance ? provenanceOf(a, behaviour.provenance === 'tampered') : undefined,
        ),
      );
      return json(res, 200, { group: 'g1', entries });
    }
    for (const a of behaviour.holds) {
      const digest = sha256(a.bytes);
      if (path === `/v1/artifacts/${digest}.p7s`) return void res.end(a.signature);
      if (path === `/v1/artifacts/${digest}`) {
        served.push(a.updateId);
        const bytes = Buffer.from(a.bytes);
        if (behaviour.corrupt) bytes[bytes.length - 1] ^= 1;
        return void res.end(bytes);
      }
    }
    json(res, 404, { code: 'not-found' });
  });
  servers.push(server);
  return { url, served };
}

interface ControlPlane {
  url: string;
  reports: { id: string; version: string; install?: { state: string; updateId: string } }[][];
  artifactReads: string[];
}

async function startControlPlane(
  assign: (id: string) => Omit<Assignment, 'agentId' | 'fallback'> | undefined,
  opts: { fallbackHolds?: Artifact[]; provenance?: boolean } = {},
) {
  const cp: ControlPlane = { url: '', reports: [], artifactReads: [] };
  const { url, server } = await serve((req, res, body) => {
    const path = req.url ?? '';
    if (req.headers.authorization !== 'Bearer agent-token') return json(res, 401, {});
    if (req.method === 'POST' && path === '/v1/fleet/reports') {
      cp.reports.push((JSON.parse(body) as { reports: ControlPlane['reports'][number] }).reports);
      return json(res, 202, { accepted: 1, duplicates: 0 });
    }
    if (path === '/v1/provenance/key') {
      if (!opts.provenance) return json(res, 404, {});
      return json(res, 200, {
        keyId: 'k1',
        publicKeyPem: provenanceKeys.publicKey.export({ type: 'spki', format: 'pem' }),
      });
    }
    const assignment = /^\/v1\/agents\/([^/]+)\/assignment\?/.exec(path);
    if (assignment) {
      const a = assign(decodeURIComponent(assignment[1] ?? ''));
      if (!a) return json(res, 404, { code: 'not-found' });
      return json(res, 200, { agentId: assignment[1], fallback: cp.url, ...a });
    }
    if (path === '/v1/relay-groups/g1/catalog')
      return json(res, 200, {
        group: 'g1',
        entries: (opts.fallbackHolds ?? []).map((a) => entryOf(a, 'control-plane')),
      });
    for (const a of opts.fallbackHolds ?? []) {
      if (path === `/v1/updates/${a.updateId}/signature`) return void res.end(a.signature);
      if (path === `/v1/updates/${a.updateId}/artifact`) {
        cp.artifactReads.push(a.updateId);
        return void res.end(a.bytes);
      }
    }
    json(res, 404, {});
  });
  servers.push(server);
  cp.url = url;
  return cp;
}

const assigned = (a: Artifact, rolloutId?: string) => ({
  updateId: a.updateId,
  version: a.version,
  sha256: sha256(a.bytes),
  size: a.bytes.length,
  ...(rolloutId ? { rolloutId } : {}),
});

const agents = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `a${i}`,
    platform: 'linux-x86_64',
    version: '20.0.0-100',
    group: 'g1',
  }));

function simulator(
  cp: ControlPlane,
  n: number,
  extra: Partial<ConstructorParameters<typeof AgentSimulator>[0]> = {},
) {
  return new AgentSimulator({
    controlPlane: cp.url,
    token: 'agent-token',
    agents: agents(n),
    trustAnchors: anchors,
    concurrency: 4,
    random: seededRandom(1),
    ...extra,
  });
}

describe('AgentSimulator', () => {
  it('installs the software target and the security updates from its first relay and reports progress then the result', async () => {
    const relay = await startRelay({ holds: [agentBuild, rules] });
    const cp = await startControlPlane(() => ({
      relays: [relay.url],
      software: assigned(agentBuild, 'rol_000000000000000000000001'),
      security: [{ ...assigned(rules), component: 'firewall-rules' }],
    }));
    const sim = simulator(cp, 3);
    await sim.round();

    expect(sim.state().map((a) => [a.version, a.securityUpdates['firewall-rules']])).toEqual(
      Array(3).fill(['20.0.1-200', '26-058']),
    );
    expect(relay.served.sort()).toEqual(
      [...Array(3).fill(agentBuild.updateId), ...Array(3).fill(rules.updateId)].sort(),
    );
    // Progress batch (downloading the first item), then the result batch.
    const [progress, result] = cp.reports;
    expect(progress?.map((r) => r.install?.state)).toEqual([
      'downloading',
      'downloading',
      'downloading',
    ]);
    expect(result?.map((r) => [r.version, r.install?.state])).toEqual(
      Array(3).fill(['20.0.1-200', 'installed']),
    );
    expect(sim.stats).toMatchObject({ installed: 6, failed: 0, fromRelay: 6, fromFallback: 0 });

    // Nothing left to do: the next round only reports.
    await sim.round();
    expect(relay.served).toHaveLength(6);
  }, 60_000);

  it('skips a relay that lacks the update or serves altered bytes, and falls back to the control plane last', async () => {
    const empty = await startRelay({ holds: [] });
    const corrupt = await startRelay({ holds: [agentBuild], corrupt: true });
    const cp = await startControlPlane(
      () => ({ relays: [empty.url, corrupt.url], software: assigned(agentBuild), security: [] }),
      { fallbackHolds: [agentBuild] },
    );
    const sim = simulator(cp, 2);
    await sim.round();
    expect(corrupt.served).toHaveLength(2);
    expect(cp.artifactReads).toHaveLength(2);
    expect(sim.state().map((a) => a.version)).toEqual(['20.0.1-200', '20.0.1-200']);
    expect(sim.stats).toMatchObject({ installed: 2, fromFallback: 2, sourceFailures: 4 });
  }, 60_000);

  it('reports failed installs at the fail rate and does not retry them', async () => {
    const relay = await startRelay({ holds: [agentBuild] });
    const cp = await startControlPlane(() => ({
      relays: [relay.url],
      software: assigned(agentBuild),
      security: [],
    }));
    const sim = simulator(cp, 10, { failRate: 0.5 });
    await sim.round();
    const failed = sim.state().filter((a) => a.install?.state === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(10);
    expect(failed.every((a) => a.version === '20.0.0-100')).toBe(true);
    expect(sim.stats.failed + sim.stats.installed).toBe(10);
    await sim.round();
    expect(relay.served).toHaveLength(10);
    expect(cp.reports.at(-1)?.filter((r) => r.install?.state === 'failed')).toHaveLength(
      failed.length,
    );
  }, 60_000);

  it('verifies the provenance with the control plane key and refuses a source whose provenance does not verify', async () => {
    const tampered = await startRelay({ holds: [agentBuild], provenance: 'tampered' });
    const good = await startRelay({ holds: [agentBuild], provenance: 'good' });
    const cp = await startControlPlane(
      () => ({ relays: [tampered.url, good.url], software: assigned(agentBuild), security: [] }),
      { provenance: true },
    );
    const sim = simulator(cp, 1);
    await sim.round();
    expect(tampered.served).toHaveLength(0);
    expect(good.served).toHaveLength(1);
    expect(sim.stats).toMatchObject({ installed: 1, provenanceVerified: 1, sourceFailures: 1 });
  }, 60_000);

  it('keeps asking while no source has the update, then reports the install failed', async () => {
    const empty = await startRelay({ holds: [] });
    const cp = await startControlPlane(() => ({
      relays: [empty.url],
      software: assigned(agentBuild),
      security: [],
    }));
    const sim = simulator(cp, 1, { maxSourceRounds: 2 });
    await sim.round();
    expect(sim.state()[0]?.install?.state).toBe('downloading');
    await sim.round();
    expect(sim.state()[0]?.install).toMatchObject({
      state: 'failed',
      updateId: agentBuild.updateId,
    });
  }, 60_000);

  it('posts reports in batches of at most 1,000', async () => {
    const cp = await startControlPlane(() => undefined);
    const sim = simulator(cp, 1_001, { concurrency: 50 });
    await sim.round();
    expect(cp.reports.map((b) => b.length)).toEqual([1_000, 1]);
    expect(sim.stats.reportsPosted).toBe(1_001);
  }, 60_000);

  it('stops cleanly between rounds', async () => {
    const cp = await startControlPlane(() => undefined);
    const sim = simulator(cp, 2, { intervalMs: 60_000 });
    sim.start();
    await new Promise<void>((resolve) => {
      const poll = () =>
        sim.stats.rounds > 0 && cp.reports.length > 0 ? resolve() : setImmediate(poll);
      poll();
    });
    await sim.stop();
    expect(sim.stats.rounds).toBe(1);
  }, 60_000);
});

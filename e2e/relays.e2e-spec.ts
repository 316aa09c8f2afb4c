import { jetstreamManager } from '@nats-io/jetstream';
import { SUBJECTS, type Rollout } from '@sup/contracts';
import { AgentSimulator, seededRandom, simAgents } from '@sup/agent-sim';
import { loadTrustAnchors } from '@sup/integrity';
import {
  buildFeed,
  createTestPki,
  eventually,
  listenOnLoopback,
  Pipeline,
  type RelayHandle,
} from '@sup/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(900_000);

const LINUX = 'linux-x86_64';
const WINDOWS = 'windows-x86_64';
const OLD = '20.0.1-100';
const TARGET = '20.1.0-200';
const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A proxy in front of distribution that lets artifact bytes through at about `bytesPerSecond`
 * and holds every artifact response at `holdAt` bytes of its file until `release()`, so a relay
 * behind it is still mid-download when the test kills it however long the setup took.
 */
async function throttlingProxy(targetPort: number, bytesPerSecond: number, holdAt: number) {
  let open = false;
  let release!: () => void;
  const released = new Promise<void>(
    (r) =>
      (release = () => {
        open = true;
        r();
      }),
  );
  const server: Server = createServer((req, res) => {
    const slow = /\/artifact$/.test((req.url ?? '').split('?')[0] ?? '');
    // Where in the file this response starts (a resumed download asks for `bytes=N-`).
    let offset = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!slow) return void up.pipe(res);
        // The last chunk may still be held or paced when the upstream ends: end after it.
        let sent: Promise<unknown> = Promise.resolve();
        up.on('data', (chunk: Buffer) => {
          up.pause();
          const held = open || offset < holdAt ? undefined : released;
          offset += chunk.length;
          const send = () => {
            // Both: the client took the chunk, and the time its size is worth has passed.
            const drained = res.write(chunk)
              ? Promise.resolve()
              : new Promise((r) => res.once('drain', r));
            const paced = new Promise((r) => setTimeout(r, (chunk.length / bytesPerSecond) * 1000));
            return Promise.all([drained, paced]).then(() => up.resume());
          };
          sent = held ? held.then(send) : send();
        });
        up.on('end', () => void sent.then(() => res.end()));
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    release,
    // Relays poll through it every second: their keep-alive sockets would hold close() open.
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/**
 * The last hop with real processes: two relay groups and three relays (services/relay), the
 * services, NATS and FerretDB, and a few hundred simulated agents (libs/agent-sim, in this
 * process) that report, ask for their assignment, download from their relays and verify SHA-256,
 * CMS and provenance like real agents. Covers a relay killed mid-download (it resumes and still
 * verifies), an offline relay catching up and holding a rollout until it does (relays first),
 * waves, a failure rate that halts a rollout, a corrupted cache file, a security rollback reaching
 * every relay and agent, and each (update, relay) once on `updates.v1.relayed`.
 */
describe('relays, rollouts and agents end to end', () => {
  let pipeline: Pipeline;
  let updates: UpdateItem[];
  let proxy: Awaited<ReturnType<typeof throttlingProxy>>;
  const relays: Record<string, RelayHandle> = {};
  let linuxAgents: AgentSimulator;
  let windowsAgents: AgentSimulator;
  const big = Buffer.alloc(64 * MiB);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
  const idOf = (component: string, version: string, platform?: string) =>
    find(
      updates.filter((u) => !platform || !u.platform || u.platform === platform),
      component,
      version,
    ).id;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-relays-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'software', component: 'agent', platform: LINUX, version: OLD, content: 4096 },
        {
          kind: 'software',
          component: 'agent',
          platform: LINUX,
          version: TARGET,
          content: 256 * 1024,
        },
        { kind: 'software', component: 'agent', platform: WINDOWS, version: TARGET, content: 4096 },
        // The large file: relays fetch it, agents never do.
        { kind: 'software', component: 'relay', platform: LINUX, version: TARGET, content: big },
        { kind: 'security', component: 'firewall-rules', version: '26-090' },
      ],
    });
    const second = await buildFeed(join(root, 'feed-2'), pki, {
      feed: 'second',
      updates: [{ kind: 'security', component: 'firewall-rules', version: '26-100' }],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: { ...allowFeeds(pathToFileURL(root).href), ROLLOUT_TICK_MS: '500' },
      relays: [{ id: 'relay-a' }, { id: 'relay-b' }, { id: 'relay-c' }],
    });
    proxy = await throttlingProxy(pipeline.ports.get('distribution') ?? 0, 8 * MiB, 16 * MiB);
    // Relays run the target relay build, so an agent rollout to TARGET never puts an agent above them.
    const env = { RELAY_VERSION: TARGET, RELAY_REPORT_INTERVAL_MS: '1000' };
    relays.a = await pipeline.startRelay({
      relayId: 'relay-a',
      group: 'g1',
      // Held by the proxy until the kill test: no idle cut (and retry) meanwhile.
      env: {
        ...env,
        CONTROL_PLANE_URL: proxy.url,
        RELAY_DOWNLOAD_IDLE_MS: '900000',
        RELAY_DOWNLOAD_TIMEOUT_MS: '1800000',
      },
    });
    relays.b = await pipeline.startRelay({ relayId: 'relay-b', group: 'g1', env });
    relays.c = await pipeline.startRelay({ relayId: 'relay-c', group: 'g2', env });
    for (const relay of Object.values(relays))
      await eventually(async () => {
        const res = await pipeline.api('GET', `/v1/relays/${relay.relayId}`, undefined, {
          as: 'viewer',
        });
        return res.status === 200 ? true : undefined;
      }, `relay ${relay.relayId} to be known`);
    // relay-c is offline while everything is published.
    await relays.c.stop();
    await syncAndWait(pipeline, feed.url);
    updates = await settled(pipeline, 5);
    await syncAndWait(pipeline, second.url);
    updates = await settled(pipeline, 6);
    expect(updates.every((u) => u.state === 'published')).toBe(true);

    const common = {
      controlPlane: `http://127.0.0.1:${pipeline.ports.get('distribution')}/v1`,
      token: pipeline.agentToken(),
      trustAnchors: loadTrustAnchors(pki.trustAnchorsPem),
      concurrency: 16,
      intervalMs: 1_000,
    };
    linuxAgents = new AgentSimulator({
      ...common,
      agents: [
        ...simAgents(150, { idPrefix: 'g1-linux', platform: LINUX, version: OLD, group: 'g1' }),
        ...simAgents(100, { idPrefix: 'g2-linux', platform: LINUX, version: OLD, group: 'g2' }),
      ],
      random: seededRandom(7),
    });
    windowsAgents = new AgentSimulator({
      ...common,
      agents: simAgents(50, { idPrefix: 'g1-win', platform: WINDOWS, version: OLD, group: 'g1' }),
      failRate: 0.6,
      random: seededRandom(11),
    });
    // Their first reports reach the fleet read model before any rollout takes its members.
    await Promise.all([linuxAgents.report(), windowsAgents.report()]);
    await eventually(async () => {
      const res = await pipeline.api<{ total: number }>(
        'GET',
        '/v1/fleet?role=agent&limit=1',
        undefined,
        { as: 'viewer' },
      );
      return res.body.total === 300 ? true : undefined;
    }, 'the agents in the fleet read model');
  });
  afterAll(async () => {
    await linuxAgents?.stop();
    await windowsAgents?.stop();
    await proxy?.close();
    await pipeline?.stop();
  });

  const relayedSubjects = async (): Promise<Record<string, number>> => {
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('UPDATES', {
        subjects_filter: `${SUBJECTS.relayed}.>`,
      });
      return info.state.subjects ?? {};
    } finally {
      await nc.close();
    }
  };
  const hasRelayed = async (updateId: string, relayId: string) =>
    ((await relayedSubjects())[`${SUBJECTS.relayed}.${updateId}-${relayId}`] ?? 0) > 0;
  const rollout = async (id: string) =>
    (await pipeline.api<Rollout>('GET', `/v1/rollouts/${id}`, undefined, { as: 'viewer' })).body;

  it('a relay killed mid-download of a 64 MiB update resumes where it stopped and still verifies', async () => {
    const relayBuild = idOf('relay', TARGET, LINUX);
    const part = join(relays.a.cacheDir, 'tmp', `${sha256(big)}.part`);
    // The proxy holds it at 16 MiB: kill once that part of the file is on disk.
    const partial = await eventually(
      () => {
        let size = 0;
        try {
          size = statSync(part).size;
        } catch {
          // not started yet
        }
        return Promise.resolve(size >= 16 * MiB ? size : undefined);
      },
      'a partial download on relay-a',
      120_000,
      50,
    );
    await relays.a.kill('SIGKILL');
    expect(await hasRelayed(relayBuild, 'relay-a')).toBe(false);
    expect(partial).toBeLessThan(big.length);
    proxy.release();
    await relays.a.restart();
    await eventually(
      async () => ((await hasRelayed(relayBuild, 'relay-a')) ? true : undefined),
      'relay-a to relay the 64 MiB build',
      300_000,
    );
    // It resumed rather than starting over, and kept exactly the signed bytes.
    const resumed = readFileSync(relays.a.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes(relayBuild) && /"resumedFrom":[1-9]/.test(l));
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(sha256(readFileSync(join(relays.a.cacheDir, 'objects', sha256(big))))).toBe(sha256(big));
  });

  it('rolls the agent build out relays first: the rollout waits for the offline relay, which catches up, then goes wave by wave', async () => {
    const target = idOf('agent', TARGET, LINUX);
    const created = await pipeline.api<Rollout>(
      'POST',
      '/v1/rollouts',
      {
        updateId: target,
        target: { platform: LINUX },
        waves: [10, 50, 100],
        successThreshold: 90,
        errorThreshold: 20,
      },
      { as: 'operator' },
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const waiting = await eventually(async () => {
      const r = await rollout(id);
      return r.state === 'waiting-for-relays' && r.waitingForRelays.includes('relay-c')
        ? r
        : undefined;
    }, 'the rollout to wait for relay-c');
    expect(waiting.waitingForRelays).not.toContain('relay-b');
    linuxAgents.start();
    windowsAgents.start();
    // While it waits, no agent is told to install the target.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(linuxAgents.state().filter((a) => a.version === TARGET)).toHaveLength(0);

    await relays.c.restart();
    await eventually(
      async () => {
        const all = await Promise.all(updates.map((u) => hasRelayed(u.id, 'relay-c')));
        return all.every(Boolean) ? true : undefined;
      },
      'relay-c to catch up on every update published while it was offline',
      300_000,
    );
    const done = await eventually(
      async () => {
        const r = await rollout(id);
        return r.state === 'completed' ? r : undefined;
      },
      'the rollout to complete',
      600_000,
      1_000,
    );
    expect(linuxAgents.state().every((a) => a.version === TARGET)).toBe(true);
    // Waves in order, each started after the previous one finished; the relay wave (if any) first.
    const agentWaves = done.waves.filter((w) => w.kind === 'agents');
    expect(agentWaves.map((w) => w.size).reduce((a, b) => a + b, 0)).toBe(250);
    for (let i = 1; i < done.waves.length; i++) {
      const prev = done.waves[i - 1];
      const next = done.waves[i];
      expect(Date.parse(next?.startedAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(prev?.finishedAt ?? ''),
      );
    }
    // Agents got the bytes from their relays, not the control plane.
    expect(linuxAgents.stats.fromRelay).toBeGreaterThanOrEqual(250);
    expect(linuxAgents.stats.fromFallback).toBe(0);
  });

  it('halts a rollout whose failure rate passes its error threshold', async () => {
    const created = await pipeline.api<Rollout>(
      'POST',
      '/v1/rollouts',
      {
        updateId: idOf('agent', TARGET, WINDOWS),
        target: { platform: WINDOWS, group: 'g1' },
        waves: [40, 100],
        successThreshold: 90,
        errorThreshold: 20,
      },
      { as: 'operator' },
    );
    expect(created.status).toBe(201);
    const halted = await eventually(
      async () => {
        const r = await rollout(created.body.id);
        return r.state === 'halted' ? r : undefined;
      },
      'the windows rollout to halt',
      300_000,
      1_000,
    );
    // The second wave never started: at most the first wave's agents were asked to install.
    const firstWave = halted.waves.find((w) => w.kind === 'agents');
    const target = idOf('agent', TARGET, WINDOWS);
    const touched = windowsAgents.state().filter((a) => a.install?.updateId === target).length;
    expect(touched).toBeLessThanOrEqual(firstWave?.size ?? 0);
    expect(windowsAgents.stats.failed).toBeGreaterThan(0);
  });

  it('does not serve a file corrupted in a relay cache; the relay fetches it again', async () => {
    const fw = idOf('firewall-rules', '26-090');
    const entry = (
      (await (
        await fetch(`${relays.b.url}/catalog`, {
          headers: { authorization: `Bearer ${pipeline.agentToken()}` },
        })
      ).json()) as { entries: { updateId: string; sha256: string }[] }
    ).entries.find((e) => e.updateId === fw);
    if (!entry) throw new Error('relay-b does not list firewall-rules 26-090');
    const file = join(relays.b.cacheDir, 'objects', entry.sha256);
    const original = readFileSync(file);
    const spoiled = Buffer.from(original);
    spoiled[0] ^= 0xff;
    writeFileSync(file, spoiled);
    const get = () =>
      fetch(`${relays.b.url}/artifacts/${entry.sha256}`, {
        headers: { authorization: `Bearer ${pipeline.agentToken()}` },
      });
    // The relay hashes as it serves: the response is cut (fetch fails) or is not the spoiled file.
    const body = await get()
      .then((res) => res.arrayBuffer())
      .then(Buffer.from, () => undefined);
    expect(body?.equals(spoiled) ?? false).toBe(false);
    await eventually(async () => {
      const again = await get();
      const bytes = Buffer.from(await again.arrayBuffer());
      return again.status === 200 && bytes.equals(original) ? true : undefined;
    }, 'relay-b to serve the refetched file');
  });

  it('a security rollback reaches every relay and every agent', async () => {
    const current = idOf('firewall-rules', '26-100');
    const earlier = idOf('firewall-rules', '26-090');
    await eventually(
      () =>
        Promise.resolve(
          linuxAgents.state().every((a) => a.securityUpdates['firewall-rules'] === '26-100') ||
            undefined,
        ),
      'agents on firewall-rules 26-100',
      300_000,
    );
    const applied = await pipeline.api(
      'POST',
      `/v1/updates/${earlier}/apply`,
      {},
      { as: 'operator' },
    );
    expect([200, 202]).toContain(applied.status);
    for (const relay of Object.values(relays)) {
      await eventually(async () => {
        const res = await fetch(`${relay.url}/catalog`, {
          headers: { authorization: `Bearer ${pipeline.agentToken()}` },
        });
        const entries = (
          (await res.json()) as {
            entries: { updateId: string; required: boolean; held?: boolean }[];
          }
        ).entries;
        const e = entries.find((x) => x.updateId === earlier);
        const c = entries.find((x) => x.updateId === current);
        return e?.required && e.held !== false && !c?.required ? true : undefined;
      }, `${relay.relayId} to require firewall-rules 26-090`);
    }
    await eventually(
      () =>
        Promise.resolve(
          linuxAgents.state().every((a) => a.securityUpdates['firewall-rules'] === '26-090') ||
            undefined,
        ),
      'every agent back on firewall-rules 26-090',
      300_000,
    );
  });

  it('announces each (update, relay) once on updates.v1.relayed', async () => {
    await Promise.all([linuxAgents.stop(), windowsAgents.stop()]);
    const counts = await relayedSubjects();
    for (const u of updates)
      for (const relayId of ['relay-a', 'relay-b', 'relay-c'])
        expect(counts[`${SUBJECTS.relayed}.${u.id}-${relayId}`]).toBe(1);
    expect(Object.keys(counts)).toHaveLength(updates.length * 3);
  });
});

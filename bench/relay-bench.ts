import { jetstreamManager } from '@nats-io/jetstream';
import { relayResultEntityId, SUBJECTS } from '@sup/contracts';
import {
  buildFeed,
  eventually,
  Pipeline,
  serveDirectory,
  type RelayHandle,
  type TestPki,
  listenOnLoopback,
} from '@sup/testing';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const MB = 1_000_000;
const MiB = 1024 * 1024;

export interface RelayFanoutBytesResult {
  relays: number;
  artifactBytes: number;
  /** From the update's `published` event to the last relay's `relayed` event (stream times). */
  allRelayedSeconds: number;
  firstRelayedSeconds: number;
  /** Artifact bytes the download endpoint actually sent, counted on the wire. */
  bytesServed: number;
  artifactRequests: number;
}

export interface ServeRate {
  what: string;
  relayPerSecond: number;
  staticPerSecond: number;
}

export interface RelayBenchResult {
  fanout: RelayFanoutBytesResult;
  serve: ServeRate[];
}

/**
 * A proxy in front of distribution that counts the bytes of every artifact response it passes:
 * what relays really pulled out of the artifact store, resumes and retries included.
 */
async function countingProxy(target: number) {
  const counts = { bytes: 0, requests: 0 };
  const server: Server = createServer((req, res) => {
    const artifact = /\/v1\/updates\/[^/]+\/artifact$/.test((req.url ?? '').split('?')[0] ?? '');
    if (artifact) counts.requests++;
    const upstream = request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (artifact) up.on('data', (c: Buffer) => (counts.bytes += c.length));
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    counts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Requests per second of `get` with `concurrency` in flight for `seconds`. */
async function rate(get: () => Promise<void>, seconds: number, concurrency = 8): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await get();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function drain(url: string, headers: Record<string, string>, size?: number): Promise<void> {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok || (size !== undefined && body.length !== size))
    throw new Error(`${url}: ${res.status}, ${body.length} bytes`);
}

/**
 * The relay benchmarks on real processes: one update of `mb` MB published and relayed by
 * `relayCount` relays (services/relay), their control-plane traffic through a counting proxy;
 * then catalog reads and 1 MiB downloads per second from one relay against a plain static file
 * server (libs/testing serveDirectory) serving the same bytes on the same machine.
 */
export async function benchRelays(
  work: string,
  pki: TestPki,
  options: { relays?: number; mb?: number; seconds?: number; say?: (m: string) => void } = {},
): Promise<RelayBenchResult> {
  const relayCount = options.relays ?? 20;
  const size = (options.mb ?? 100) * MB;
  const say = options.say ?? (() => undefined);
  const ids = Array.from({ length: relayCount }, (_, i) => `bench-${String(i).padStart(2, '0')}`);
  say(`building a feed with one ${size / MB} MB and one 1 MiB update…`);
  const feed = await buildFeed(join(work, 'relay-feed'), pki, {
    feed: 'relay-bench',
    updates: [
      {
        kind: 'software',
        component: 'agent',
        platform: 'linux-x86_64',
        version: '40.0.0-1',
        content: size,
      },
      {
        kind: 'software',
        component: 'agent',
        platform: 'windows-x86_64',
        version: '40.0.0-2',
        content: MiB,
      },
    ],
  });
  const pipeline = await Pipeline.start({
    trustAnchors: pki.trustAnchorsPem,
    env: {
      LOG_LEVEL: 'warn',
      FEED_ALLOW_FILE: 'true',
      FEED_ALLOWED_URL_PREFIXES: pathToFileURL(tmpdir()).href,
    },
    relays: ids.map((id) => ({ id })),
  });
  const proxy = await countingProxy(pipeline.ports.get('distribution') ?? 0);
  try {
    say(`starting ${relayCount} relays…`);
    const relays: RelayHandle[] = [];
    for (const id of ids) {
      relays.push(
        await pipeline.startRelay({
          relayId: id,
          group: 'bench',
          env: { CONTROL_PLANE_URL: proxy.url, LOG_LEVEL: 'warn' },
        }),
      );
    }
    await pipeline.api('POST', '/v1/feeds/sync', { url: feed.url });
    const updates = await eventually(
      async () => {
        const res = await pipeline.api<{
          items: { id: string; state: string; size?: number; platform?: string }[];
        }>('GET', '/v1/updates?state=published&limit=10');
        return res.body.items.length === 2 ? res.body.items : undefined;
      },
      'both bench updates published',
      600_000,
      500,
    );
    const big = updates.find((u) => u.platform === 'linux-x86_64');
    const small = updates.find((u) => u.platform === 'windows-x86_64');
    if (!big || !small) throw new Error('bench updates missing');
    say(`waiting for ${relayCount} relays to relay ${size / MB} MB…`);
    const nc = await pipeline.connectNats();
    try {
      const jsm = await jetstreamManager(nc);
      const timeOf = async (subject: string) => {
        const msg = await jsm.streams.getMessage('UPDATES', { last_by_subj: subject });
        if (!msg) throw new Error(`nothing on ${subject}`);
        return msg.time.getTime();
      };
      const relayedTimes = await eventually(
        async () => {
          const times = await Promise.all(
            ids.map((id) =>
              timeOf(`${SUBJECTS.relayed}.${relayResultEntityId(big.id, id)}`).catch(
                () => undefined,
              ),
            ),
          );
          return times.every((t) => t !== undefined) ? times : undefined;
        },
        `${relayCount} relays to relay the ${size / MB} MB update`,
        1_800_000,
        250,
      );
      const published = await timeOf(`${SUBJECTS.published}.${big.id}`);
      const fanout: RelayFanoutBytesResult = {
        relays: relayCount,
        artifactBytes: size,
        allRelayedSeconds: (Math.max(...relayedTimes) - published) / 1000,
        firstRelayedSeconds: (Math.min(...relayedTimes) - published) / 1000,
        bytesServed: proxy.counts.bytes,
        artifactRequests: proxy.counts.requests,
      };
      // Only one relay is needed now; the others would only compete for the two cores.
      await Promise.all(relays.slice(1).map((r) => r.stop()));
      const relay = relays[0];
      const agent = { authorization: `Bearer ${pipeline.agentToken()}` };
      const catalogBody = await eventually(
        async () => {
          const res = await fetch(`${relay.url}/catalog`, { headers: agent });
          const text = await res.text();
          return res.ok && text.includes(small.id) ? text : undefined;
        },
        'the relay catalog listing the 1 MiB update',
        120_000,
      );
      const entry = (
        JSON.parse(catalogBody) as { entries: { updateId: string; sha256: string }[] }
      ).entries.find((e) => e.updateId === small.id);
      if (!entry) throw new Error('no catalog entry');
      // The relay fetches on demand: one read makes sure it holds the file before timing.
      await drain(`${relay.url}/artifacts/${entry.sha256}`, agent, MiB);
      const staticDir = join(work, 'static');
      mkdirSync(staticDir, { recursive: true });
      writeFileSync(join(staticDir, 'catalog.json'), catalogBody);
      const smallPath = feed.index.updates.find(
        (u) => (u as { platform?: string }).platform === 'windows-x86_64',
      ) as { artifact: { path: string } } | undefined;
      const bytes = readFileSync(join(feed.dir, smallPath?.artifact.path ?? ''));
      if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256)
        throw new Error('static copy differs from the relay entry');
      writeFileSync(join(staticDir, entry.sha256), bytes);
      const plain = await serveDirectory(staticDir);
      try {
        const seconds = options.seconds ?? 10;
        say('catalog and 1 MiB download rates: relay vs static file server…');
        const serve: ServeRate[] = [
          {
            what: 'catalog reads',
            relayPerSecond: await rate(() => drain(`${relay.url}/catalog`, agent), seconds),
            staticPerSecond: await rate(() => drain(`${plain.url}catalog.json`, {}), seconds),
          },
          {
            what: '1 MiB downloads',
            relayPerSecond: await rate(
              () => drain(`${relay.url}/artifacts/${entry.sha256}`, agent, MiB),
              seconds,
            ),
            staticPerSecond: await rate(
              () => drain(`${plain.url}${entry.sha256}`, {}, MiB),
              seconds,
            ),
          },
        ];
        return { fanout, serve };
      } finally {
        await plain.close();
      }
    } finally {
      await nc.close();
    }
  } finally {
    await proxy.close();
    await pipeline.stop();
  }
}

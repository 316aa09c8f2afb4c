import { generateKeyPairSync } from 'node:crypto';
import { keyIdOf, verifyChain, type ChainEntry } from '@sup/audit';
import { connectJetStream, type JetStreamConnection } from '@sup/jetstream';
import { useNats } from '@sup/testing';
import { ChainAppender, type Pending } from './chain-appender';
import { ChainStore, type Tail } from './chain-store';

jest.setTimeout(30_000);

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { privateKey, keyId: keyIdOf(privateKey), file: 'spec' };
const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };

let stop: () => Promise<void>;
let a: JetStreamConnection;
let b: JetStreamConnection;

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  // Two connections: two replicas of the audit service appending to one stream.
  a = await connectJetStream({ servers: nats.url, service: 'audit-spec-a' });
  b = await connectJetStream({ servers: nats.url, service: 'audit-spec-b' });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await stop?.();
});

// Made when appended, as the service does: two replicas chaining one source make different bytes.
const source = (id: string): Pending => ({
  kind: 'source',
  msgId: `audit:${id}`,
  content: {
    at: new Date().toISOString(),
    kind: 'verdict',
    source: {
      id,
      type: 't',
      subject: `updates.v1.imported.${id}`,
      time: '2026-01-01T00:00:00.000Z',
    },
    summary: { verdict: 'imported' },
  },
});

const appender = (connection: JetStreamConnection, store = new ChainStore(connection)) =>
  new ChainAppender(store, key, quiet, { checkpointEvery: 25, maxBatch: 64, maxRounds: 1_000 });

async function wholeChain(store: ChainStore): Promise<{ entries: ChainEntry[]; lastSeq: number }> {
  const lastSeq = await store.lastSeq();
  const entries: ChainEntry[] = [];
  for (let seq = 1; seq <= lastSeq; seq++) {
    const msg = await store.get(seq);
    if (msg) entries.push({ seq, data: msg.data });
  }
  return { entries, lastSeq };
}

/** A replica that read the tail just before another one appended: its first read is that old tail. */
class LateReader extends ChainStore {
  constructor(
    connection: JetStreamConnection,
    private stale: Tail | undefined,
  ) {
    super(connection);
  }

  override async tail(): Promise<Tail> {
    const stale = this.stale;
    this.stale = undefined;
    return stale ?? super.tail();
  }
}

describe('ChainAppender', () => {
  it('keeps one valid chain with each source once while two replicas append the same and different sources', async () => {
    const [ra, rb] = [appender(a), appender(b)];
    // Sources 0..299; those divisible by 3 reach both replicas (a redelivery after an ack timeout).
    const ids = Array.from({ length: 300 }, (_, i) => `src-${i}`);
    const forA = ids.filter((_, i) => i % 2 === 0 || i % 3 === 0);
    const forB = ids.filter((_, i) => i % 2 === 1 || i % 3 === 0);
    const batches = (list: string[], size: number) =>
      Array.from({ length: Math.ceil(list.length / size) }, (_, i) =>
        list.slice(i * size, (i + 1) * size).map(source),
      );
    await Promise.all([
      ...batches(forA, 7).map((batch) => ra.append(batch)),
      ...batches(forB, 11).map((batch) => rb.append(batch)),
    ]);
    await ra.checkpointIfDue();

    const store = new ChainStore(a);
    const { entries, lastSeq } = await wholeChain(store);
    const report = verifyChain(entries, { publicKey, lastSeq });
    expect(report.problem).toBeUndefined();
    expect(report).toMatchObject({ ok: true, duplicateSources: 0, unanchored: 0 });
    expect(report.byKind.verdict).toBe(300);
    // One every 25 records at least (both replicas may anchor, never the same head twice).
    expect(report.byKind.checkpoint).toBeGreaterThanOrEqual(Math.floor(300 / 25));

    // Appending chained sources again (a redelivery inside the duplicate window) adds nothing.
    await rb.append(ids.slice(0, 50).map(source));
    expect(await store.lastSeq()).toBe(lastSeq);
    // Nor does a checkpoint of a chain that already ends with one.
    await ra.checkpointIfDue();
    expect(await store.lastSeq()).toBe(lastSeq);
  });

  it("never chains a record after another replica's copy of a source it found duplicated", async () => {
    const store = new ChainStore(a);
    const before = await store.tail();
    // Replica B appends W and then X...
    await appender(b).append([source('race-w'), source('race-x')]);
    // ...while replica A, still on the old tail, appends Y, X, Z: Y loses its position, X is a
    // duplicate sitting exactly where A meant to put it (with other bytes), and Z must not be
    // stored after B's X as if it were A's.
    await appender(a, new LateReader(a, before)).append([
      source('race-y'),
      source('race-x'),
      source('race-z'),
    ]);
    const { entries, lastSeq } = await wholeChain(store);
    const report = verifyChain(entries, { publicKey, lastSeq });
    expect(report.problem).toBeUndefined();
    expect(report.duplicateSources).toBe(0);
    expect(lastSeq - before.seq).toBe(4);
  });
});

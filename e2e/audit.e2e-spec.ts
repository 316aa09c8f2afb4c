import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { recordHash, type ChainReport } from '@sup/audit';
import {
  durableName,
  SUBJECTS,
  AUDIT_CHAIN_RECORD_SUBJECT,
  AUDIT_CHAIN_STREAM,
  AuditPageSchema,
  type AuditPage,
  type AuditRecord,
} from '@sup/contracts';
import { buildFeed, createTestPki, eventually, Pipeline, repoRoot } from '@sup/testing';
import { allowFeeds, settled, syncAndWait } from './helpers';

jest.setTimeout(300_000);

const run = promisify(execFile);

type Item = AuditPage['items'][number];
const recordOf = (item: Item): AuditRecord | undefined =>
  'record' in item ? item.record : undefined;

/** The whole chain through `GET /v1/audit`, page by page. */
async function readAll(p: Pipeline, limit: number): Promise<{ items: Item[]; pages: number }> {
  const items: Item[] = [];
  let after = 0;
  for (let pages = 1; ; pages++) {
    const res = await p.api<AuditPage>('GET', `/v1/audit?after=${after}&limit=${limit}`);
    expect(res.status).toBe(200);
    const page = AuditPageSchema.parse(res.body);
    items.push(...page.items);
    if (page.next === undefined) return { items, pages };
    after = page.next;
  }
}

describe('audit log: every verdict and operator action on one hash chain, verifiable', () => {
  let pipeline: Pipeline;
  let feedUrl: string;
  let secondFeedUrl: string;
  let admin: NatsConnection;
  let publicKeyFile: string;

  /** `npm run audit:verify -- --json` as an operator runs it, against the pipeline's NATS. */
  async function verify(): Promise<{ code: number; report: ChainReport }> {
    const auth = pipeline.natsAuth();
    const env = {
      PATH: process.env.PATH,
      NATS_URL: pipeline.natsUrl,
      ...(auth.user ? { NATS_USER: auth.user, NATS_PASSWORD: auth.pass } : {}),
    };
    const cli = join(repoRoot(), 'dist/tools/audit/main.js');
    const args = [cli, '--public-key', publicKeyFile, '--json'];
    try {
      const { stdout } = await run(process.execPath, args, { env });
      return { code: 0, report: JSON.parse(stdout) as ChainReport };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      if (!failed.stdout) throw new Error(`audit:verify failed: ${failed.stderr}`);
      return { code: failed.code, report: JSON.parse(failed.stdout) as ChainReport };
    }
  }

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-audit-'));
    const pki = await createTestPki(join(root, 'pki'));
    const base = { kind: 'software', component: 'agent', platform: 'linux-x86_64' };
    feedUrl = (
      await buildFeed(join(root, 'feed'), pki, {
        updates: [
          { ...base, version: '30.0.1-1' },
          { ...base, version: '30.0.2-2' },
          { ...base, version: '30.0.3-3', tamper: 'forged' },
          { ...base, version: '30.0.4-4', tamper: 'corrupt' },
        ],
      })
    ).url;
    // A later feed (same name, higher sequence) for the crash test: 12 more updates.
    secondFeedUrl = (
      await buildFeed(join(root, 'feed2'), pki, {
        sequence: 2,
        updates: Array.from({ length: 12 }, (_, i) => ({ ...base, version: `31.0.${i}-${i}` })),
      })
    ).url;
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: {
        ...allowFeeds(pathToFileURL(root).href),
        AUDIT_CHECKPOINT_EVERY: '5',
        AUDIT_CHECKPOINT_MS: '1000',
        JS_BATCH_SIZE: '4',
      },
    });
    // A second replica of audit: both append to the one chain.
    await pipeline.startService('audit', 1);
    admin = await pipeline.connectNats();
    publicKeyFile = join(pipeline.workDir, 'data', 'audit', 'checkpoint-signing-key.pub.pem');
  });
  afterAll(async () => {
    await admin?.close();
    await pipeline?.stop();
  });

  it('chains the sync request with its actor and every verdict once, pages it, and verifies', async () => {
    const sync = await syncAndWait(pipeline, feedUrl);
    expect(sync).toMatchObject({ state: 'completed', imported: 4 });
    await settled(pipeline, 4);

    // 2 good updates x 4 verdicts, the forged one imported/checksum-verified/rejected, the corrupt
    // one imported/rejected; a checkpoint at the end (timer) once nothing more arrives.
    const expectedVerdicts = 2 * 4 + 3 + 2;
    const { items, pages } = await eventually(async () => {
      const all = await readAll(pipeline, 4);
      const records = all.items.map(recordOf).filter((r) => r !== undefined);
      const verdicts = records.filter((r) => r.kind === 'verdict').length;
      const tail = records.at(-1);
      return verdicts >= expectedVerdicts && tail?.kind === 'checkpoint' ? all : undefined;
    }, 'every verdict on the chain, anchored by a checkpoint');
    expect(pages).toBeGreaterThan(3);
    const records = items.map(recordOf);
    expect(records.every((r) => r !== undefined)).toBe(true);
    const chain = records as AuditRecord[];

    // One chain: consecutive sequences, each linked to the one before, each hash its content's.
    chain.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.hash).toBe(recordHash(r));
      if (i > 0) expect(r.prevHash).toBe(chain[i - 1].hash);
    });

    const verdicts = chain.filter((r) => r.kind === 'verdict');
    expect(verdicts).toHaveLength(expectedVerdicts);
    const sources = chain.flatMap((r) => (r.source ? [r.source.id] : []));
    expect(new Set(sources).size).toBe(sources.length);
    const rejected = verdicts.filter((r) => r.summary?.verdict === 'rejected');
    expect(rejected.map((r) => [r.summary?.version, r.summary?.stage]).sort()).toEqual([
      ['30.0.3-3', 'signature'],
      ['30.0.4-4', 'checksum'],
    ]);
    expect(verdicts.filter((r) => r.summary?.verdict === 'published')).toHaveLength(2);

    const actions = chain.filter((r) => r.kind === 'action');
    expect(actions).toHaveLength(1);
    expect(actions[0].actor).toEqual({ type: 'token', name: 'test-admin', role: 'admin' });
    expect(actions[0].summary).toMatchObject({
      action: 'feed-sync-requested',
      target: sync.id,
      outcome: 'accepted',
    });
    expect(chain.filter((r) => r.kind === 'checkpoint').length).toBeGreaterThanOrEqual(2);

    const { code, report } = await verify();
    expect(report.problem).toBeUndefined();
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, firstSeq: 1, duplicateSources: 0 });
    expect(report.records).toBeGreaterThanOrEqual(chain.length);
  });

  it('appends each source once when a replica is killed mid-append and its messages are redelivered', async () => {
    const before = (await readAll(pipeline, 500)).items.length;
    const started = await pipeline.api<{ id: string }>('POST', '/v1/feeds/sync', {
      url: secondFeedUrl,
    });
    expect(started.status).toBe(202);
    // As soon as records of this sync arrive, the first replica dies without acknowledging
    // whatever it holds; the other one and the restarted one take the redeliveries.
    await eventually(
      async () => ((await readAll(pipeline, 500)).items.length > before + 2 ? true : undefined),
      'records of the second sync',
      60_000,
      20,
    );
    await pipeline.kill('audit', 0);
    await pipeline.startService('audit', 0);
    await settled(pipeline, 16);

    // 12 updates x imported, checksum-verified, validated, published.
    const expected = 12 * 4;
    const report = await eventually(async () => {
      const { report } = await verify();
      const chained = report.byKind.verdict - (2 * 4 + 3 + 2);
      return report.ok && chained >= expected && report.unanchored === 0 ? report : undefined;
    }, 'every verdict of the second sync chained and anchored');
    expect(report.duplicateSources).toBe(0);
    expect(report.byKind.verdict).toBe(2 * 4 + 3 + 2 + expected);
    expect(report.byKind.action).toBe(2);

    // The same source event delivered again for certain: a copy of a published event stored
    // anew in UPDATES (no message id, so that stream keeps it) reaches the audit consumer as a
    // new message. Its record's message id is already on the chain: nothing is appended.
    const published = (await readAll(pipeline, 500)).items
      .map(recordOf)
      .find((r) => r?.summary?.verdict === 'published');
    const jsm = await jetstreamManager(admin);
    const original = await jsm.streams.getMessage('UPDATES', {
      last_by_subj: published!.source!.subject,
    });
    const copy = await jetstream(admin).publish(original!.subject, original!.data);
    const durable = durableName('audit', 'main', SUBJECTS.published);
    await eventually(async () => {
      const info = await jsm.consumers.info('UPDATES', durable);
      return info.ack_floor.stream_seq >= copy.seq ? true : undefined;
    }, 'the audit consumer to acknowledge the copy');
    const after = await verify();
    expect(after.report).toMatchObject({ ok: true, duplicateSources: 0 });
    expect(after.report.byKind.verdict).toBe(report.byKind.verdict);
  });

  it('is for admins only', async () => {
    expect((await pipeline.api('GET', '/v1/audit', undefined, { as: 'operator' })).status).toBe(
      403,
    );
    expect((await pipeline.api('GET', '/v1/audit', undefined, { as: 'anonymous' })).status).toBe(
      401,
    );
    expect((await pipeline.api('GET', '/v1/audit?limit=100000')).status).toBe(400);
  });

  it('reports a forged record, then a removed one, at the first record that is wrong', async () => {
    const jsm = await jetstreamManager(admin);
    const third = await jsm.streams.getMessage(AUDIT_CHAIN_STREAM, { seq: 3 });
    const original = JSON.parse(third!.string()) as AuditRecord;
    // Someone with write access to the stream "corrects" record 3: a resealed copy lands at the
    // end of the stream (a stream cannot be rewritten in place), where it does not belong.
    const forged = { ...original, summary: { ...original.summary, verdict: 'published' } };
    forged.hash = recordHash(forged);
    const ack = await jetstream(admin).publish(AUDIT_CHAIN_RECORD_SUBJECT, JSON.stringify(forged));
    const first = await verify();
    expect(first.code).toBe(1);
    expect(first.report.problem).toMatchObject({ seq: ack.seq, kind: 'reordered' });

    // Then record 4 is deleted: now the first problem is there.
    await jsm.streams.deleteMessage(AUDIT_CHAIN_STREAM, 4, false);
    const second = await verify();
    expect(second.code).toBe(1);
    expect(second.report.problem).toEqual({
      seq: 4,
      kind: 'removed',
      detail: 'record 4 is missing',
    });
    expect(second.report.records).toBe(3);

    // The listing shows the hole instead of skipping it.
    const page = await pipeline.api<AuditPage>('GET', '/v1/audit?after=2&limit=3');
    expect(page.body.items.map((i) => i.seq)).toEqual([3, 4, 5]);
    expect(page.body.items[1]).toEqual({ seq: 4, missing: true });
  });
});

import {
  buildFeed,
  createTestPki,
  Pipeline,
  serveDirectory,
  type StaticServer,
  type TestPki,
} from '@sup/testing';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  AlertListSchema,
  parseEvent,
  SUBJECTS,
  SyncStatusSchema,
  UpdateDetailSchema,
  UpdateListSchema,
  parseEntitySubject,
} from '@sup/contracts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventually } from '@sup/testing';
import { allowFeeds, allUpdates, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(240_000);

const agent = { kind: 'software', component: 'agent', platform: 'linux-x86_64' };

describe('pipeline: import → checksum → signature → publish, with rejections and alerts', () => {
  let pki: TestPki;
  let pipeline: Pipeline;
  let feedDir: string;
  let http: StaticServer;
  let items: UpdateItem[];

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-'));
    pki = await createTestPki(join(root, 'pki'));
    feedDir = join(root, 'feed');
    await buildFeed(feedDir, pki, {
      sequence: 7,
      updates: [
        { ...agent, version: '20.0.1-12345', content: 64 * 1024 },
        {
          kind: 'software',
          component: 'relay',
          platform: 'linux-x86_64',
          version: '20.0.1.12345',
          signer: 'pss',
          signOptions: { pss: true },
        },
        { kind: 'security', component: 'firewall-rules', version: '26-058', signer: 'ecdsa' },
        {
          kind: 'security',
          component: 'anti-malware-pattern',
          version: '19.231.00',
          signOptions: { noAttributes: true },
        },
        {
          kind: 'security',
          component: 'intrusion-prevention-rules',
          version: '26-059',
          tamper: 'corrupt',
        },
        {
          kind: 'security',
          component: 'log-inspection-rules',
          version: '26-060',
          tamper: 'forged',
        },
        {
          kind: 'security',
          component: 'integrity-monitoring-rules',
          version: '26-061',
          tamper: 'swapped-signature',
        },
        { ...agent, platform: 'windows-x86_64', version: '20.0.1-12346', tamper: 'weak-key' },
        {
          kind: 'security',
          component: 'firewall-rules',
          version: '26-062',
          entry: { component: 'application-control-rules' },
        },
        {
          kind: 'security',
          component: 'firewall-rules',
          version: '26-063',
          entry: { kind: 'firmware' },
        },
        {
          kind: 'security',
          component: 'firewall-rules',
          version: '26-064',
          entry: { artifact: { path: '../outside.bin', size: 10, sha256: 'a'.repeat(64) } },
        },
        {
          kind: 'security',
          component: 'log-inspection-rules',
          version: '26-065',
          omitArtifact: true,
        },
        {
          kind: 'security',
          component: 'log-inspection-rules',
          version: '26-066',
          content: 8192,
          entry: {
            artifact: {
              path: 'log-inspection-rules/log-inspection-rules-26-066.bin',
              size: 1000,
              sha256: 'b'.repeat(64),
            },
          },
        },
      ],
    });
    http = await serveDirectory(feedDir);
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      env: allowFeeds(pathToFileURL(feedDir).href, http.url),
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await http?.close();
  });

  it('syncs a signed feed over HTTP and reports what it imported and refused', async () => {
    const sync = await syncAndWait(pipeline, http.url);
    // The entry whose artifact is missing (404) is retried, then reported on the sync as failed:
    // a file that is not there (yet) is no verdict on the update, so no update record exists.
    expect(sync).toMatchObject({
      state: 'failed',
      imported: 8,
      rejected: 4,
      unchanged: 0,
      failed: 1,
      pending: 0,
      total: 13,
      failures: [{ code: 'artifact-missing' }],
    });
    expect(sync.reason).toMatch(/1 of 13 entries could not be imported/);
    items = await settled(pipeline, 12);
  });

  it('publishes the authentic updates, whatever the signature algorithm', () => {
    for (const [component, version] of [
      ['agent', '20.0.1-12345'],
      ['relay', '20.0.1.12345'],
      ['firewall-rules', '26-058'],
      ['anti-malware-pattern', '19.231.00'],
    ] as const) {
      expect(find(items, component, version).state).toBe('published');
    }
    expect(items.filter((u) => u.state === 'published')).toHaveLength(4);
  });

  it('rejects forged, corrupted and malformed updates at the right stage', () => {
    const expectations: [string, string, string, string][] = [
      ['intrusion-prevention-rules', '26-059', 'checksum', 'sha256-mismatch'],
      ['log-inspection-rules', '26-060', 'signature', 'untrusted-chain'],
      ['integrity-monitoring-rules', '26-061', 'signature', 'digest-mismatch'],
      ['agent', '20.0.1-12346', 'policy', 'policy-violation'],
      ['application-control-rules', '26-062', 'feed', 'local-only-component'],
      ['firewall-rules', '26-064', 'feed', 'path-escape'],
      ['log-inspection-rules', '26-066', 'feed', 'too-large'],
    ];
    for (const [component, version, stage, code] of expectations) {
      expect(find(items, component, version)).toMatchObject({
        state: 'rejected',
        rejection: { stage, code },
      });
    }
    expect(items.some((u) => u.version === '26-065')).toBe(false);
    const unknownKind = items.find((u) => u.kind === 'firmware');
    expect(unknownKind).toMatchObject({
      state: 'rejected',
      rejection: { stage: 'feed', code: 'invalid-entry' },
    });
    expect(unknownKind?.rejection?.reason).toMatch(/kind/);
  });

  it('raises one alert per rejection', async () => {
    const alerts = await eventually(async () => {
      const res = await pipeline.api<{
        items: { updateId: string; severity: string; state: string }[];
      }>('GET', '/v1/alerts?limit=100');
      return res.body.items.length >= 8 ? res.body.items : undefined;
    }, '8 alerts');
    const rejected = items
      .filter((u) => u.state === 'rejected')
      .map((u) => u.id)
      .sort();
    expect(alerts.map((a) => a.updateId).sort()).toEqual(rejected);
    expect(alerts.every((a) => a.state === 'open')).toBe(true);
  });

  it('deletes the stored bytes of rejected updates and keeps the published ones', async () => {
    const stored = async (relPath: string) => {
      const key = createHash('sha256')
        .update(await readFile(join(feedDir, relPath)))
        .digest('hex');
      return join(pipeline.workDir, 'data/artifacts/sha256', key.slice(0, 2), key);
    };
    const forged = await stored('log-inspection-rules/log-inspection-rules-26-060.bin');
    const corrupt = await stored(
      'intrusion-prevention-rules/intrusion-prevention-rules-26-059.bin',
    );
    const good = await stored('agent/linux-x86_64/agent-20.0.1-12345.zip');
    await eventually(
      () => Promise.resolve(!existsSync(forged) && !existsSync(corrupt) ? true : undefined),
      'rejected artifacts to be deleted',
    );
    expect(existsSync(good)).toBe(true);
  });

  it('keeps the event history of an update', async () => {
    const published = find(items, 'agent', '20.0.1-12345');
    const detail = await pipeline.api<{ history: { state: string; source: string }[] }>(
      'GET',
      `/v1/updates/${published.id}`,
    );
    expect(detail.status).toBe(200);
    expect(detail.body.history.map((h) => h.state).sort()).toEqual([
      'checksum-verified',
      'imported',
      'published',
      'validated',
    ]);
    expect(detail.body.history.find((h) => h.state === 'validated')?.source).toBe(
      '/services/signature-validator',
    );
  });

  it('logs a warning naming the file whose signature failed', async () => {
    const log = await readFile(pipeline.logFile('signature-validator'), 'utf8');
    const warning = log
      .split('\n')
      .find((l) => l.includes('log-inspection-rules-26-060.bin') && l.includes('"level":"warn"'));
    expect(warning).toContain('Verifying the signature failed');
    expect(warning).toContain('cannot be imported');
  });

  it('imports nothing twice when the same feed is synced again (from the directory this time)', async () => {
    const again = await syncAndWait(pipeline, `file://${feedDir}/`);
    expect(again).toMatchObject({
      state: 'failed',
      imported: 0,
      rejected: 0,
      unchanged: 12,
      failed: 1,
    });
    const after = await allUpdates(pipeline);
    expect(after).toHaveLength(12);
  });

  it('publishes one valid CloudEvent per step for subscribers, and nothing more on re-sync', async () => {
    const nc: NatsConnection = await pipeline.connectNats();
    try {
      const consumer = await jetstream(nc).consumers.get('UPDATES');
      const seen: { subject: string; id: string; about?: string }[] = [];
      for await (const m of await consumer.fetch({ max_messages: 500, expires: 3000 })) {
        const wire = parseEntitySubject(m.subject);
        if (!wire) throw new Error(`${m.subject} is not <type>.<entity>`);
        const event = parseEvent(wire.type, m.json());
        expect(event.subject).toBe(wire.entityId);
        seen.push({ subject: wire.type, id: event.id, about: event.subject });
        if (m.info.pending === 0) break;
      }
      // 4 published × 4 steps, 1 corrupt × 2, 3 bad signatures × 3, 4 bad entries × 1.
      expect(seen).toHaveLength(31);
      expect(new Set(seen.map((e) => e.id)).size).toBe(31);
      for (const e of seen) expect(e.id).toBe(`${e.about}:${e.subject}`);
      expect(seen.filter((e) => e.subject === SUBJECTS.published)).toHaveLength(4);
      expect(seen.filter((e) => e.subject === SUBJECTS.rejected)).toHaveLength(8);
    } finally {
      await nc.close();
    }
  });

  it('answers in the shapes the OpenAPI document promises', async () => {
    UpdateListSchema.parse((await pipeline.api('GET', '/v1/updates?limit=500')).body);
    UpdateDetailSchema.parse((await pipeline.api('GET', `/v1/updates/${items[0]?.id}`)).body);
    AlertListSchema.parse((await pipeline.api('GET', '/v1/alerts')).body);
    const sync = await pipeline.api<{ id: string }>('POST', '/v1/feeds/sync', { url: http.url });
    SyncStatusSchema.parse((await pipeline.api('GET', `/v1/feeds/syncs/${sync.body.id}`)).body);
  });

  it('filters and pages the update list', async () => {
    const published = await pipeline.api<{ items: UpdateItem[]; total: number }>(
      'GET',
      '/v1/updates?state=published&limit=2',
    );
    expect(published.body.total).toBe(4);
    expect(published.body.items).toHaveLength(2);
    const bad = await pipeline.api<{ message: string }>('GET', '/v1/updates?state=bogus');
    expect(bad.status).toBe(400);
    const missing = await pipeline.api('GET', '/v1/updates/upd_000000000000000000000000');
    expect(missing.status).toBe(404);
  });

  it('serves the OpenAPI document', async () => {
    const doc = await pipeline.api<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/v1/openapi.json',
    );
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/feeds/sync', '/v1/updates', '/v1/alerts']),
    );
  });
});

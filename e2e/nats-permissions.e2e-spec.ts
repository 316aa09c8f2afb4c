import { buildFeed, createTestPki, eventually, Pipeline, sleep } from '@sup/testing';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  buildEvent,
  entitySubject,
  parseEvent,
  SUBJECTS,
  SERVICE_NAMES,
  type NatsUserName,
} from '@sup/contracts';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allUpdates, find, settled, syncAndWait, type UpdateItem } from './helpers';

jest.setTimeout(240_000);

/** An operator's own NATS (NATS_URL) has its own users: the harness cannot make the services'. */
const external = process.env.NATS_URL;
const describeWithUsers = external ? describe.skip : describe;
if (external) {
  process.stderr.write(
    `nats-permissions e2e skipped: NATS_URL=${external} is an external server and the harness cannot create per-service users on it\n`,
  );
}

/** What the stream holds on one subject (admin reads it), or null. */
async function lastOn(jsm: JetStreamManager, subject: string): Promise<unknown> {
  const stored = await jsm.streams.getMessage('UPDATES', { last_by_subj: subject });
  return stored ? stored.json<unknown>() : null;
}

describeWithUsers('NATS permissions: every service as its own user', () => {
  let pipeline: Pipeline;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  let items: UpdateItem[];
  const opened: NatsConnection[] = [];

  const as = async (user: NatsUserName): Promise<NatsConnection> => {
    const nc = await pipeline.connectNats(user);
    opened.push(nc);
    return nc;
  };

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sup-e2e-nats-'));
    const pki = await createTestPki(join(root, 'pki'));
    const feed = await buildFeed(join(root, 'feed'), pki, {
      updates: [
        { kind: 'software', component: 'agent', platform: 'linux-x86_64', version: '21.0.0-1' },
        { kind: 'security', component: 'firewall-rules', version: '26-200', tamper: 'forged' },
      ],
    });
    pipeline = await Pipeline.start({
      trustAnchors: pki.trustAnchorsPem,
      feedUrl: feed.url,
      // The sync sweeper lists ingest_syncs' keys (an ordered consumer): let it run often.
      env: { FEED_SYNC_SWEEP_MS: '300' },
    });
    admin = await pipeline.connectNats();
    jsm = await jetstreamManager(admin);
    await syncAndWait(pipeline);
    items = await settled(pipeline, 2);
  });
  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close()));
    await admin?.close();
    await pipeline?.stop();
  });

  it('runs the whole pipeline with per-service users and no refused subject', () => {
    expect(find(items, 'agent', '21.0.0-1').state).toBe('published');
    expect(find(items, 'firewall-rules', '26-200')).toMatchObject({
      state: 'rejected',
      rejection: { stage: 'signature' },
    });
    for (const name of SERVICE_NAMES) {
      const log = readFileSync(pipeline.logFile(name), 'utf8');
      expect(log).not.toContain('NATS refused');
      expect(log).not.toMatch(/Permissions Violation/i);
    }
  });

  it('refuses a client without credentials or with a wrong password', async () => {
    await expect(connect({ servers: pipeline.natsUrl, timeout: 5_000 })).rejects.toThrow(
      /authorization/i,
    );
    await expect(
      connect({ servers: pipeline.natsUrl, user: 'checksum', pass: 'guess', timeout: 5_000 }),
    ).rejects.toThrow(/authorization/i);
  });

  it('refuses checksum’s user a forged validated event: the forged update is never published', async () => {
    const forged = find(items, 'firewall-rules', '26-200');
    const verified = parseEvent(
      SUBJECTS.checksumVerified,
      await lastOn(jsm, entitySubject(SUBJECTS.checksumVerified, forged.id)),
    );
    const subject = entitySubject(SUBJECTS.validated, forged.id);
    const event = buildEvent(
      SUBJECTS.validated,
      {
        update: verified.data.update,
        signer: {
          subject: 'CN=Made Up',
          issuer: 'CN=Made Up',
          serialNumber: '01',
          sha256Fingerprint: '0'.repeat(64),
          notBefore: '2020-01-01T00:00:00Z',
          notAfter: '2040-01-01T00:00:00Z',
        },
        digestAlgorithm: 'sha256',
        signatureAlgorithm: 'rsa-pkcs1-v1_5',
        signedAttributes: true,
        validatedAt: new Date().toISOString(),
      },
      { id: `forged:${forged.id}`, source: '/services/signature-validator', subject: forged.id },
    );
    const checksum = await as('checksum');
    await expect(jetstream(checksum).publish(subject, JSON.stringify(event))).rejects.toThrow(
      `Permissions Violation for Publish to "${subject}"`,
    );
    // A core publish (no acknowledgement asked) is dropped by the server just the same.
    checksum.publish(subject, JSON.stringify(event));
    await checksum.flush();
    expect(await lastOn(jsm, subject)).toBeNull();
    await sleep(1_000); // time for a forged event, had it been stored, to reach distribution
    const after = await allUpdates(pipeline);
    expect(find(after, 'firewall-rules', '26-200').state).toBe('rejected');
  });

  it('refuses a forged rejection of a published update from users that never reject: it stays published with its bytes', async () => {
    const published = find(items, 'agent', '21.0.0-1');
    const imported = parseEvent(
      SUBJECTS.imported,
      await lastOn(jsm, entitySubject(SUBJECTS.imported, published.id)),
    );
    const key = imported.data.update.artifact.storeKey;
    const stored = join(pipeline.workDir, 'data/artifacts/sha256', key.slice(0, 2), key);
    expect(existsSync(stored)).toBe(true);

    const subject = entitySubject(SUBJECTS.rejected, published.id);
    const rejection = buildEvent(
      SUBJECTS.rejected,
      {
        updateId: published.id,
        stage: 'checksum',
        code: 'sha256-mismatch',
        reason: 'forged',
        update: imported.data.update,
        rejectedAt: new Date().toISOString(),
      },
      { id: `forged:${published.id}`, source: '/services/checksum', subject: published.id },
    );
    for (const user of ['distribution', 'alerting', 'audit'] as const) {
      const nc = await as(user);
      await expect(jetstream(nc).publish(subject, JSON.stringify(rejection))).rejects.toThrow(
        /Permissions Violation for Publish/,
      );
    }
    expect(await lastOn(jsm, subject)).toBeNull();
    await sleep(1_000);
    expect(find(await allUpdates(pipeline), 'agent', '21.0.0-1').state).toBe('published');
    expect(existsSync(stored)).toBe(true);
  });

  it('refuses a service another service’s durable, a stream deletion and another’s dead letters', async () => {
    const checksum = await as('checksum');
    const cjsm = await jetstreamManager(checksum);
    const theirs = 'distribution-main-updates_v1_validated';
    await expect(cjsm.consumers.info('UPDATES', theirs)).rejects.toThrow(/Permissions Violation/);
    await expect(cjsm.streams.delete('UPDATES')).rejects.toThrow(/Permissions Violation/);
    await expect(cjsm.streams.purge('UPDATES')).rejects.toThrow(/Permissions Violation/);
    await expect(
      jetstream(checksum).publish('dlq.v1.distribution.updates.v1.validated.x', '{}'),
    ).rejects.toThrow(/Permissions Violation/);
    expect((await jsm.consumers.info('UPDATES', theirs)).name).toBe(theirs);
    await eventually(
      async () => ((await jsm.streams.info('UPDATES')).state.messages > 0 ? true : undefined),
      'UPDATES to keep its messages',
    );
  });

  it('keeps each service’s replies in its own inboxes', async () => {
    const checksum = await as('checksum');
    const errors: string[] = [];
    void (async () => {
      for await (const s of checksum.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    const sub = checksum.subscribe('_INBOX.ingest.>');
    await checksum.flush();
    await eventually(
      () => Promise.resolve(errors.some((e) => /Permissions Violation/.test(e)) || undefined),
      'the server to refuse the subscription',
    );
    expect(sub.isClosed()).toBe(true);
  });
});

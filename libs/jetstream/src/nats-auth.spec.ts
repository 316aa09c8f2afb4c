import { durableName, SUBJECTS } from '@sup/contracts';
import { freePort, startNatsServer, type RunningNats } from '@sup/testing';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectJetStream, type JetStreamConnection } from './connection';
import { consumerConfig } from './consumer-config';
import type { JetStreamLogger } from './logger';
import { natsAuthFromEnv, natsAuthOptions, redactUrlSecrets } from './nats-auth';

jest.setTimeout(30_000);

describe('redactUrlSecrets', () => {
  it.each([
    ['nats://svc:s3cret@10.0.0.1:4222', 'nats://svc:***@10.0.0.1:4222'],
    ['nats://a:x@h1:4222,nats://b:y@h2:4222', 'nats://a:***@h1:4222,nats://b:***@h2:4222'],
    ['cannot reach mongodb://root:p%40ss@db/sup?x=1', 'cannot reach mongodb://root:***@db/sup?x=1'],
    ['tls://only-a-token@nats:4222', 'tls://***@nats:4222'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['user@example.com wrote', 'user@example.com wrote'],
  ])('%s', (text, expected) => {
    expect(redactUrlSecrets(text)).toBe(expected);
  });
});

describe('natsAuthFromEnv', () => {
  it('reads a user and password, or a creds file, or nothing', () => {
    expect(natsAuthFromEnv({ NATS_USER: 'u', NATS_PASSWORD: 'p' })).toEqual({
      user: 'u',
      password: 'p',
    });
    expect(natsAuthFromEnv({ NATS_CREDS: '/x.creds' })).toEqual({ credsFile: '/x.creds' });
    expect(natsAuthFromEnv({ NATS_USER: '' })).toBeUndefined();
  });

  it('refuses both kinds at once, and a password without a user', () => {
    expect(() => natsAuthFromEnv({ NATS_CREDS: '/x', NATS_USER: 'u' })).toThrow('not both');
    expect(() => natsAuthFromEnv({ NATS_PASSWORD: 'p' })).toThrow('without NATS_USER');
  });

  it('names a creds file it cannot read', () => {
    expect(() => natsAuthOptions({ credsFile: '/nonexistent/x.creds' })).toThrow(
      'NATS_CREDS: cannot read /nonexistent/x.creds',
    );
  });
});

describe('a NATS server with per-service users', () => {
  let nats: RunningNats;
  const opened: JetStreamConnection[] = [];
  const creds = (user: 'checksum' | 'admin') => {
    const c = nats.credentials?.[user];
    if (!c) throw new Error('the server was started without users');
    return { user: c.user, password: c.password };
  };

  beforeAll(async () => {
    nats = await startNatsServer({ authDir: mkdtempSync(join(tmpdir(), 'nats-auth-js-')) });
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await nats?.stop();
  });

  async function open(
    service: string,
    auth: { user: string; password: string },
    logger?: JetStreamLogger,
  ): Promise<JetStreamConnection> {
    const c = await connectJetStream({ servers: nats.url, service, auth, logger });
    opened.push(c);
    return c;
  }

  it('refuses a client without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: nats.url, timeout: 3_000 })).rejects.toThrow(/authoriz/i);
    await expect(
      connectJetStream({
        servers: nats.url.replace('nats://', 'nats://checksum:not-the-password@'),
        service: 'checksum',
        connectTimeoutMs: 3_000,
      }),
    ).rejects.toThrow(/cannot connect to NATS at nats:\/\/checksum:\*\*\*@127\.0\.0\.1/);
  });

  it('lets checksum converge the streams, pull its own durable and publish its own events', async () => {
    const checksum = await open('checksum', creds('checksum'));
    const ack = await checksum.js.publish(`${SUBJECTS.checksumVerified}.upd_ok`, '{}');
    expect(ack.stream).toBe('UPDATES');
    const durable = durableName('checksum', 'main', SUBJECTS.imported);
    const settings = { maxDeliver: 2, backoffMs: [100], ackWaitMs: 5_000, maxAckPending: 10 };
    const info = await checksum.jsm.consumers.add(
      'UPDATES',
      consumerConfig(durable, `${SUBJECTS.imported}.*`, 'spec', settings),
    );
    expect(info.name).toBe(durable);
  });

  it('refuses checksum a validated event, a foreign durable and a stream deletion, and says so', async () => {
    const refusals: { obj: object; msg?: string }[] = [];
    const logger: JetStreamLogger = {
      info: () => undefined,
      warn: () => undefined,
      error: (obj, msg) => refusals.push({ obj, msg }),
    };
    const checksum = await open('checksum', creds('checksum'), logger);
    await expect(checksum.js.publish(`${SUBJECTS.validated}.upd_forged`, '{}')).rejects.toThrow(
      /Permissions Violation for Publish to "updates\.v1\.validated\.upd_forged"/,
    );
    await expect(checksum.jsm.consumers.info('UPDATES', 'distribution-main-x')).rejects.toThrow(
      /Permissions Violation/,
    );
    await expect(checksum.jsm.streams.delete('UPDATES')).rejects.toThrow(/Permissions Violation/);
    expect(refusals.map((r) => r.msg)).toContain(
      'NATS refused publish to updates.v1.validated.upd_forged: not in the permissions of service checksum',
    );

    const admin = await open('admin-spec', creds('admin'));
    const stored = await admin.jsm.streams.getMessage('UPDATES', {
      last_by_subj: `${SUBJECTS.validated}.upd_forged`,
    });
    expect(stored).toBeNull();
  });

  it('lets admin change a stream, and a service only keep it as it is, with a warning', async () => {
    const warnings: string[] = [];
    const logger: JetStreamLogger = {
      info: () => undefined,
      warn: (_obj, msg) => warnings.push(msg ?? ''),
      error: () => undefined,
    };
    const admin = await connectJetStream({
      servers: nats.url,
      service: 'admin-spec',
      auth: creds('admin'),
      duplicateWindowMs: 60_000,
    });
    opened.push(admin);
    const checksum = await connectJetStream({
      servers: nats.url,
      service: 'checksum',
      auth: creds('checksum'),
      logger,
    });
    opened.push(checksum);
    const { config } = await checksum.jsm.streams.info('UPDATES');
    expect(config.duplicate_window).toBe(60_000 * 1e6);
    expect(warnings).toContain(
      "stream UPDATES differs from this service's settings and its NATS user may not change it; converge the streams as admin (npm start does at start-up)",
    );
  });

  it('names the URL without its password when the server is gone', async () => {
    const dead = `nats://checksum:s3cret@127.0.0.1:${await freePort()}`;
    const attempt = connectJetStream({
      servers: dead,
      service: 'checksum',
      connectTimeoutMs: 1_000,
    });
    const error = await attempt.then(
      () => new Error('connected to a dead port'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toContain('cannot connect to NATS at nats://checksum:***@127.0.0.1');
    expect(error.message).not.toContain('s3cret');
  });
});

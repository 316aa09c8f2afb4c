import { Writable } from 'node:stream';
import { createLogger } from './logger';

/** A logger writing synchronously into an array of parsed lines. */
function capture(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('spec', 'info', sink), lines };
}

describe('createLogger redaction', () => {
  it('drops the password of a URL in the message and in the error', () => {
    const { logger, lines } = capture();
    const cause = new Error('connect refused by mongodb://root:hunter2@db:27017/sup');
    logger.fatal({ err: cause }, 'cannot connect to NATS at nats://ingest:s3cret@nats:4222');
    const line = lines.join('');
    expect(line).not.toMatch(/s3cret|hunter2/);
    expect(line).toContain('nats://ingest:***@nats:4222');
    expect(line).toContain('mongodb://root:***@db:27017/sup');
  });

  it('redacts authorization headers, passwords and tokens, and URLs in fields', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer sup_admin_xyz', accept: '*/*' } },
        config: { natsAuth: { user: 'ingest', password: 'pw-1' } },
        nats: { password: 'pw-2' },
        token: 'tok-3',
        url: 'nats://ingest:pw-4@127.0.0.1:4222',
      },
      'request',
    );
    const parsed = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(JSON.stringify(parsed)).not.toMatch(/sup_admin_xyz|pw-1|pw-2|tok-3|pw-4/);
    expect(parsed).toMatchObject({
      req: { headers: { authorization: '[redacted]', accept: '*/*' } },
      config: { natsAuth: { user: 'ingest', password: '[redacted]' } },
      url: 'nats://ingest:***@127.0.0.1:4222',
    });
  });

  it('leaves lines without secrets as they are', () => {
    const { logger, lines } = capture();
    logger.info({ subject: 'updates.v1.imported.upd_1', acked: 3 }, 'events handled');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      subject: 'updates.v1.imported.upd_1',
      acked: 3,
      msg: 'events handled',
      service: 'spec',
    });
  });
});

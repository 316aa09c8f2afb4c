import { randomBytes } from 'node:crypto';
import { freePort, useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { publishDeadLetter, type DeadLetter } from './dead-letter';
import { DLQ_STREAM } from './dead-letter-admin';
import { EXIT, parseCommand, runDeadLetterCli, USAGE } from './dead-letter-cli';

jest.setTimeout(30_000);

describe('parseCommand', () => {
  it.each([
    [['list'], { name: 'list', filter: {}, limit: 50 }],
    [
      [
        'list',
        '--service',
        'checksum',
        '--subject-filter',
        'updates.v1.imported.>',
        '--limit',
        '5',
      ],
      {
        name: 'list',
        filter: { service: 'checksum', subjectFilter: 'updates.v1.imported.>' },
        limit: 5,
      },
    ],
    [['show', '12'], { name: 'show', seq: 12 }],
    [['replay', '3', '4', '3'], { name: 'replay', seqs: [3, 4], all: false, filter: {} }],
    [
      ['replay', '--all', '--service', 'alerting'],
      { name: 'replay', seqs: [], all: true, filter: { service: 'alerting' } },
    ],
    [['drop', '--all', '--yes'], { name: 'drop', seqs: [], all: true, filter: {} }],
    [['list', '--help'], { name: 'help' }],
    [['-h'], { name: 'help' }],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv)).toEqual(command);
  });

  it.each([
    [[], /no command/],
    [['purge'], /unknown command "purge"/],
    [['list', '--limit', '0'], /--limit "0"/],
    [['list', '--limit', 'ten'], /--limit "ten"/],
    [['list', '7'], /list takes no sequence numbers/],
    [['list', '--all'], /list does not take --all/],
    [['list', '--bogus'], /bogus/],
    [['list', '--service', 'a.b'], /not a service name/],
    [['list', '--subject-filter', 'a.>.b'], /not a NATS subject filter/],
    [['show'], /exactly one/],
    [['show', '1', '2'], /exactly one/],
    [['show', '1', '--service', 'x'], /show does not take --service/],
    [['show', '-3'], /-3/],
    [['replay'], /needs sequence numbers or --all/],
    [['replay', '0'], /"0" is not a DLQ sequence number/],
    [['replay', '1.5'], /"1.5" is not a DLQ sequence number/],
    [['replay', '1', '--all'], /not both/],
    [['replay', '1', '--service', 'x'], /for --all only/],
    [['replay', '--all', '--yes'], /replay does not take --yes/],
    [['drop', '--all'], /add --yes/],
    [['drop', '--all', '--limit', '3', '--yes'], /drop does not take --limit/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('npm run dlq against nats-server', () => {
  let connection: JetStreamConnection;
  let url: string;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const nats = await useNats();
    url = nats.url;
    stop = () => nats.stop();
    connection = await connectJetStream({ servers: url, service: 'dlq-cli-spec' });
  });

  afterAll(async () => {
    await connection?.close();
    await stop?.();
  });

  async function dlq(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runDeadLetterCli(argv, {
      env: { NATS_URL: url },
      out: (t) => (out += t),
      err: (t) => (err += t),
    });
    return { code, out, err };
  }

  let streamSeq = 1;

  /** A dead letter of a fresh event on its own alert subject; returns its DLQ seq. */
  async function deadLetter(service: string): Promise<{ seq: number; letter: DeadLetter }> {
    const alertId = `alert_${randomBytes(5).toString('hex')}`;
    const subject = `alerts.v1.raised.${alertId}`;
    const letter: DeadLetter = {
      service,
      consumer: `${service}-main`,
      subject,
      originalSubject: subject,
      streamSeq: streamSeq++,
      deliveries: 3,
      error: 'database unreachable\n    at handler',
      failedAt: '2026-11-29T14:00:00.000Z',
      event: JSON.stringify({ specversion: '1.0', id: `${alertId}:alerts.v1.raised` }),
    };
    await publishDeadLetter(connection.js, letter);
    const stored = await connection.jsm.streams.getMessage(DLQ_STREAM, {
      last_by_subj: `dlq.v1.${service}.${subject}`,
    });
    return { seq: stored!.seq, letter };
  }

  const service = (): string => `cli-${randomBytes(4).toString('hex')}`;

  it('lists a table with the first line of each error', async () => {
    const svc = service();
    const { seq, letter } = await deadLetter(svc);
    const { code, out, err } = await dlq('list', '--service', svc);
    expect(code).toBe(EXIT.ok);
    const [header, line, ...rest] = out.trimEnd().split('\n');
    expect(header.split(/\s{2,}/)).toEqual([
      'SEQ',
      'SERVICE',
      'SUBJECT',
      'DELIVERIES',
      'FAILED AT',
      'ERROR',
    ]);
    expect(line.split(/\s{2,}/)).toEqual([
      String(seq),
      svc,
      letter.originalSubject,
      '3',
      letter.failedAt,
      'database unreachable',
    ]);
    expect(rest).toEqual([]);
    expect(err).toBe('1 dead letter\n');
    expect(await dlq('list', '--service', service())).toEqual({
      code: EXIT.ok,
      out: '',
      err: 'no dead letters\n',
    });
  });

  it('shows one dead letter as JSON, and says so when there is none', async () => {
    const { seq, letter } = await deadLetter(service());
    const shown = await dlq('show', String(seq));
    expect(shown.code).toBe(EXIT.ok);
    expect(JSON.parse(shown.out)).toEqual(letter);
    const missing = await dlq('show', '999999');
    expect(missing).toMatchObject({ code: EXIT.failed, out: '' });
    expect(missing.err).toContain('no dead letter at DLQ seq 999999');
  });

  it('replays, and a repeat is reported as a failure that changed nothing', async () => {
    const svc = service();
    const { seq, letter } = await deadLetter(svc);
    const first = await dlq('replay', String(seq));
    expect(first.code).toBe(EXIT.ok);
    expect(first.out).toMatch(
      new RegExp(`^seq ${seq}: replayed: republished to ${letter.originalSubject}`),
    );
    expect(first.err).toBe('1 replayed\n');
    const again = await dlq('replay', String(seq));
    expect(again.code).toBe(EXIT.failed);
    expect(again.out).toContain(`seq ${seq}: failed: no dead letter at DLQ seq ${seq}`);
    const info = await connection.jsm.streams.info('ALERTS', {
      subjects_filter: letter.originalSubject,
    });
    expect(info.state.messages).toBe(1);
  });

  it('replays --all of one service, and reports partial failure with exit code 1', async () => {
    const svc = service();
    const good = await deadLetter(svc);
    await connection.js.publish(`dlq.v1.${svc}.broken`, 'garbage');
    const { code, out, err } = await dlq('replay', '--all', '--service', svc);
    expect(code).toBe(EXIT.failed);
    expect(out).toContain(`seq ${good.seq}: replayed`);
    expect(out).toMatch(/failed: not a dead letter \(not JSON\)/);
    expect(err).toBe('1 replayed, 1 failed\n');
  });

  it('drops after printing what it drops; --all wants --yes', async () => {
    const svc = service();
    const a = await deadLetter(svc);
    const b = await deadLetter(svc);
    const one = await dlq('drop', String(a.seq));
    expect(one.code).toBe(EXIT.ok);
    expect(one.out).toMatch(new RegExp(`^dropping:\\nSEQ .*\\n${a.seq} +${svc} `));
    expect(one.out).toContain(`seq ${a.seq}: dropped`);

    const refused = await dlq('drop', '--all', '--service', svc);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.err).toContain('add --yes');
    expect(await connection.jsm.streams.getMessage(DLQ_STREAM, { seq: b.seq })).not.toBeNull();

    const all = await dlq('drop', '--all', '--yes', '--service', svc);
    expect(all.code).toBe(EXIT.ok);
    expect(all.out).toContain(`seq ${b.seq}: dropped`);
    expect(await dlq('list', '--service', svc)).toMatchObject({ err: 'no dead letters\n' });
  });

  it('prints help with exit 0, usage errors with exit 2, and a dead NATS with exit 1', async () => {
    expect(await dlq('--help')).toEqual({ code: EXIT.ok, out: USAGE, err: '' });
    const usage = await dlq('replay');
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.err).toMatch(/^dlq: replay needs sequence numbers or --all\n\nUsage:/);

    const dead = `nats://127.0.0.1:${await freePort()}`;
    let err = '';
    const code = await runDeadLetterCli(['list'], {
      env: { NATS_URL: dead },
      out: () => undefined,
      err: (t) => (err += t),
    });
    expect(code).toBe(EXIT.failed);
    expect(err).toContain(`cannot connect to NATS at ${dead}`);

    const both = await runDeadLetterCli(['list'], {
      env: { NATS_URL: url, NATS_USER: 'u', NATS_CREDS: '/x.creds' },
      out: () => undefined,
      err: () => undefined,
    });
    expect(both).toBe(EXIT.usage);
  });
});

import { randomBytes } from 'node:crypto';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { publishDeadLetter, type DeadLetter } from './dead-letter';
import { DeadLetterAdmin, DLQ_STREAM } from './dead-letter-admin';

jest.setTimeout(30_000);

let connection: JetStreamConnection;
let admin: DeadLetterAdmin;
let stop: () => Promise<void>;

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  connection = await connectJetStream({ servers: nats.url, service: 'dlq-admin-spec' });
  admin = new DeadLetterAdmin(connection.js, connection.jsm);
});

afterAll(async () => {
  await connection?.close();
  await stop?.();
});

const tag = (): string => randomBytes(5).toString('hex');
let streamSeqs = 1_000_000;

/** A CloudEvent as the pipeline writes it, on its per-entity subject. */
function alertEvent(): { id: string; subject: string; event: string } {
  const alertId = `alert_${tag()}`;
  const id = `${alertId}:alerts.v1.raised`;
  const event = JSON.stringify({ specversion: '1.0', id, source: '/services/alerting', data: {} });
  return { id, subject: `alerts.v1.raised.${alertId}`, event };
}

const letterFor = (
  service: string,
  original: { subject: string; event: string },
  extra: Partial<DeadLetter> = {},
): DeadLetter => ({
  service,
  consumer: `${service}-main`,
  subject: original.subject,
  originalSubject: original.subject,
  streamSeq: streamSeqs++,
  deliveries: 5,
  error: 'handler failed\nstack…',
  failedAt: new Date().toISOString(),
  event: original.event,
  ...extra,
});

/** What the transport publishes when a consumer of `service` gives up on the event. */
async function deadLetter(
  service: string,
  original: { subject: string; event: string },
  extra: Partial<DeadLetter> = {},
): Promise<number> {
  await publishDeadLetter(connection.js, letterFor(service, original, extra));
  const last = await connection.jsm.streams.getMessage(DLQ_STREAM, {
    last_by_subj: `dlq.v1.${service}.${original.subject}`,
  });
  return last!.seq;
}

async function count(subject: string): Promise<number> {
  const stream = subject.split('.')[0].toUpperCase();
  const info = await connection.jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('DeadLetterAdmin against nats-server', () => {
  it('finds what the transport files: one dead letter per message and consumer', async () => {
    const service = `svc-${tag()}`;
    const alert = alertEvent();
    const letter = letterFor(service, alert);
    await publishDeadLetter(connection.js, letter);
    await publishDeadLetter(connection.js, letter); // the term got lost and the message came back
    const { entries } = await admin.list({ service });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ dlqSubject: `dlq.v1.${service}.${alert.subject}`, letter });
  });

  it('lists dead letters oldest first, by service and original subject, leaving no consumer', async () => {
    const [a, b] = [`svc-a-${tag()}`, `svc-b-${tag()}`];
    const alert = alertEvent();
    const imported = { subject: `updates.v1.imported.upd_${tag()}`, event: '{"id":"x"}' };
    const first = await deadLetter(a, alert);
    const second = await deadLetter(a, imported);
    await deadLetter(b, alert);

    const all = await admin.list({ service: a });
    expect(all.entries.map((e) => e.seq)).toEqual([first, second]);
    expect(all.unread).toBe(0);
    expect(all.entries[0]).toMatchObject({
      service: a,
      dlqSubject: `dlq.v1.${a}.${alert.subject}`,
      letter: { originalSubject: alert.subject, deliveries: 5, event: alert.event },
    });

    const filtered = await admin.list({ service: a, subjectFilter: 'updates.v1.imported.*' });
    expect(filtered.entries.map((e) => e.seq)).toEqual([second]);

    const limited = await admin.list({ service: a, limit: 1 });
    expect(limited.entries.map((e) => e.seq)).toEqual([first]);
    expect(limited.unread).toBe(1);

    expect((await admin.list()).entries.length).toBeGreaterThanOrEqual(3);
    const consumers = await connection.jsm.consumers.list(DLQ_STREAM).next();
    expect(consumers).toEqual([]);
  });

  it('replays the original event once to its original subject under its id, then deletes the dead letter', async () => {
    const service = `svc-${tag()}`;
    const alert = alertEvent();
    const seq = await deadLetter(service, alert);
    const entry = (await admin.get(seq))!;

    const [result] = await admin.replayEntries([entry]);
    expect(result).toMatchObject({ seq, outcome: 'replayed' });
    expect(result.detail).toMatch(
      /^republished to alerts\.v1\.raised\.alert_\w+ \(ALERTS seq \d+\)$/,
    );
    expect(await count(alert.subject)).toBe(1);
    const stored = await connection.jsm.streams.getMessage('ALERTS', {
      last_by_subj: alert.subject,
    });
    expect(stored!.string()).toBe(alert.event);
    expect(stored!.header.get('Nats-Msg-Id')).toBe(alert.id);
    expect(await admin.get(seq)).toBeNull();

    // Again by sequence: it is gone, and saying so is all that happens.
    expect(await admin.find([seq])).toEqual({ entries: [], missing: [seq] });
    // Again from a stale listing (as if the delete had been lost): deduplicated, nothing new.
    const [again] = await admin.replayEntries([entry]);
    expect(again).toMatchObject({ outcome: 'replayed' });
    expect(again.detail).toMatch(/^already republished/);
    // Another consumer's dead letter of the same event: no second copy either.
    const other = await deadLetter(service, alert, { consumer: `${service}-projection` });
    const [twin] = await admin.replayEntries([(await admin.get(other))!]);
    expect(twin).toMatchObject({ outcome: 'replayed' });
    expect(await count(alert.subject)).toBe(1);
    expect(await admin.get(other)).toBeNull();
  });

  it('keeps the dead letter when JetStream would drop the replay as the original inside its duplicate window', async () => {
    const service = `svc-${tag()}`;
    const alert = alertEvent();
    const original = await connection.js.publish(alert.subject, alert.event, { msgID: alert.id });
    const seq = await deadLetter(service, alert, { streamSeq: original.seq });

    const [result] = await admin.replayEntries([(await admin.get(seq))!]);
    expect(result.outcome).toBe('failed');
    expect(result.detail).toContain(`still remembers event ${alert.id}`);
    expect(result.detail).toContain(`ALERTS seq ${original.seq}`);
    expect(await admin.get(seq)).not.toBeNull();
    expect(await count(alert.subject)).toBe(1);
  });

  it('refuses to replay what it cannot replay safely, and drops it all', async () => {
    const service = `svc-${tag()}`;
    await connection.js.publish(`dlq.v1.${service}.junk`, 'not a dead letter');
    await deadLetter(service, { subject: `alerts.v1.raised.alert_${tag()}`, event: 'not json' });
    await deadLetter(service, { subject: `nowhere.v1.x.${tag()}`, event: '{"id":"a"}' });
    await deadLetter(service, { subject: `dlq.v1.loop.${tag()}`, event: '{"id":"b"}' });
    const wild = letterFor(service, { subject: 'alerts.v1.raised.*', event: '{"id":"c"}' });
    await connection.js.publish(`dlq.v1.${service}.wild`, JSON.stringify(wild));

    const { entries } = await admin.list({ service });
    expect(entries).toHaveLength(5);
    expect(entries[0]).toMatchObject({ service, problem: 'not JSON' });
    expect(entries[0].letter).toBeUndefined();

    const results = await admin.replayEntries(entries);
    expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('failed'));
    expect(results[0].detail).toContain('not a dead letter (not JSON)');
    expect(results[1].detail).toContain('no CloudEvent id');
    for (const r of results.slice(2)) expect(r.detail).toContain('no event stream captures it');

    const dropped = await admin.dropEntries(entries);
    expect(dropped.map((r) => r.outcome)).toEqual(Array(5).fill('dropped'));
    expect((await admin.list({ service })).entries).toEqual([]);
    // Dropping what another operator already dropped is not an error.
    expect((await admin.dropEntries(entries.slice(0, 1)))[0].outcome).toBe('dropped');
  });
});

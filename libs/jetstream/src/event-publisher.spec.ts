import { randomBytes } from 'node:crypto';
import { ContractViolation, SUBJECTS, type EventData } from '@sup/contracts';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { EventPublisher } from './event-publisher';

jest.setTimeout(20_000);

let stop: () => Promise<void>;
let connection: JetStreamConnection;
let publisher: EventPublisher;

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  connection = await connectJetStream({ servers: nats.url, service: 'publisher-spec' });
  publisher = new EventPublisher(connection, '/services/publisher-spec');
});

afterAll(async () => {
  await connection?.close();
  await stop?.();
});

const alert = (): EventData<typeof SUBJECTS.alertRaised> => ({
  alertId: `alr_${randomBytes(6).toString('hex')}`,
  rule: 'spec-rule',
  severity: 'warning',
  summary: 'something to look at',
  details: { n: 1 },
  raisedAt: new Date().toISOString(),
});

const raised = (data: EventData<typeof SUBJECTS.alertRaised>, id = `alert-${data.alertId}`) => ({
  type: SUBJECTS.alertRaised,
  entityId: data.alertId,
  data,
  id,
});

describe('EventPublisher', () => {
  it('stores a CloudEvent on <type>.<entity> with the id as JetStream message id', async () => {
    const data = alert();
    const ack = await publisher.publish(raised(data));
    expect(ack.duplicate).toBe(false);

    const stored = await connection.jsm.streams.getMessage('ALERTS', { seq: ack.seq });
    expect(stored?.subject).toBe(`${SUBJECTS.alertRaised}.${data.alertId}`);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(`alert-${data.alertId}`);
    expect(stored?.json()).toEqual({
      specversion: '1.0',
      id: `alert-${data.alertId}`,
      source: '/services/publisher-spec',
      type: `io.signed-update-pipeline.${SUBJECTS.alertRaised}`,
      subject: data.alertId,
      time: expect.any(String) as unknown,
      datacontenttype: 'application/json',
      data,
    });
  });

  it('reports a second publish with the same id as a duplicate of the first', async () => {
    const data = alert();
    const first = await publisher.publish(raised(data));
    const second = await publisher.publish(raised(data));
    expect(second).toEqual({ seq: first.seq, duplicate: true });
  });

  it('keeps the first decision about an entity, whatever the id of a later one', async () => {
    const data = alert();
    await publisher.publish(raised(data, 'first'));
    const before = (await connection.jsm.streams.info('ALERTS')).state.last_seq;
    // Outside any duplicate window: another id, other content, same entity and type.
    const later = await publisher.publish(raised({ ...data, summary: 'changed' }, 'second'));
    expect(later.duplicate).toBe(true);
    expect((await connection.jsm.streams.info('ALERTS')).state.last_seq).toBe(before);
    const kept = await connection.jsm.streams.getMessage('ALERTS', {
      last_by_subj: `${SUBJECTS.alertRaised}.${data.alertId}`,
    });
    expect((kept?.json() as { id: string }).id).toBe('first');
  });

  it('publishes many at once and reports each outcome in input order', async () => {
    const events = Array.from({ length: 50 }, () => raised(alert()));
    const bad = raised({ ...alert(), severity: 'apocalyptic' } as unknown as EventData<
      typeof SUBJECTS.alertRaised
    >);
    const outcomes = await publisher.publishAll(
      [...events.slice(0, 25), bad, ...events.slice(25)],
      8,
    );
    expect(outcomes).toHaveLength(51);
    expect(outcomes[25]).toMatchObject({ ok: false, event: bad });
    expect(outcomes.filter((o) => o.ok && !o.duplicate)).toHaveLength(50);
    const again = await publisher.publishAll(events);
    expect(again.every((o) => o.ok && o.duplicate)).toBe(true);
  });

  it('refuses data that breaks the contract, without publishing anything', async () => {
    const before = (await connection.jsm.streams.info('ALERTS')).state.last_seq;
    const bad = { ...alert(), severity: 'apocalyptic' } as unknown as EventData<
      typeof SUBJECTS.alertRaised
    >;
    await expect(publisher.publish(raised(bad, 'bad-1'))).rejects.toThrow(ContractViolation);
    expect((await connection.jsm.streams.info('ALERTS')).state.last_seq).toBe(before);
  });
});

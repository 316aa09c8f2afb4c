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

describe('EventPublisher', () => {
  it('stores a CloudEvent with the id as JetStream message id and returns its sequence', async () => {
    const data = alert();
    const id = `alert-${data.alertId}`;
    const ack = await publisher.publish(SUBJECTS.alertRaised, data, { id, subject: data.alertId });
    expect(ack.duplicate).toBe(false);

    const stored = await connection.jsm.streams.getMessage('ALERTS', { seq: ack.seq });
    expect(stored?.subject).toBe(SUBJECTS.alertRaised);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(id);
    expect(stored?.json()).toEqual({
      specversion: '1.0',
      id,
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
    const first = await publisher.publish(SUBJECTS.alertRaised, data, {
      id: `dup-${data.alertId}`,
    });
    const second = await publisher.publish(SUBJECTS.alertRaised, data, {
      id: `dup-${data.alertId}`,
    });
    expect(second).toEqual({ seq: first.seq, duplicate: true });
  });

  it('refuses data that breaks the contract, without publishing anything', async () => {
    const before = (await connection.jsm.streams.info('ALERTS')).state.last_seq;
    const bad = { ...alert(), severity: 'apocalyptic' } as unknown as EventData<
      typeof SUBJECTS.alertRaised
    >;
    await expect(publisher.publish(SUBJECTS.alertRaised, bad, { id: 'bad-1' })).rejects.toThrow(
      ContractViolation,
    );
    expect((await connection.jsm.streams.info('ALERTS')).state.last_seq).toBe(before);
  });
});

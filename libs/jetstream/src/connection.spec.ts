import { freePort, startNatsServer, useNats } from '@sup/testing';
import { STREAMS } from '@sup/contracts';
import { connectJetStream, type JetStreamConnection } from './connection';

jest.setTimeout(20_000);

let url: string;
let stop: () => Promise<void>;
const opened: JetStreamConnection[] = [];

beforeAll(async () => {
  const nats = await useNats();
  url = nats.url;
  stop = () => nats.stop();
});

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await stop?.();
});

async function open(
  service: string,
  extra: { duplicateWindowMs?: number } = {},
): Promise<JetStreamConnection> {
  const connection = await connectJetStream({ servers: url, service, ...extra });
  opened.push(connection);
  return connection;
}

describe('connectJetStream', () => {
  it('creates every contract stream as a file-backed limits stream with the duplicate window', async () => {
    const connection = await open('conn-spec');
    for (const spec of STREAMS) {
      const { config } = await connection.jsm.streams.info(spec.name);
      expect(config).toMatchObject({
        name: spec.name,
        subjects: spec.subjects,
        description: spec.description,
        storage: 'file',
        retention: spec.retention ?? 'limits',
        duplicate_window: 10 * 60 * 1e9,
        num_replicas: 1,
      });
    }
  });

  it('is idempotent and updates a drifted duplicate window in place, keeping the messages', async () => {
    const first = await open('conn-spec-a');
    await first.js.publish('alerts.v1.kept', 'x', { msgID: `kept-${Date.now()}` });
    const before = await first.jsm.streams.info('ALERTS');

    const second = await open('conn-spec-b', { duplicateWindowMs: 60_000 });
    const after = await second.jsm.streams.info('ALERTS');
    expect(after.config.duplicate_window).toBe(60_000 * 1e6);
    expect(after.state.messages).toBe(before.state.messages);
    expect(after.created).toBe(before.created);

    await open('conn-spec-c'); // back to the default, again without error
    expect((await second.jsm.streams.info('ALERTS')).config.duplicate_window).toBe(10 * 60 * 1e9);
  });

  it('names the service on the connection and reports health until closed', async () => {
    const connection = await connectJetStream({ servers: url, service: 'conn-spec-health' });
    expect(connection.service).toBe('conn-spec-health');
    expect(connection.nc.info?.client_id).toBeDefined();
    expect(connection.isHealthy()).toBe(true);
    await connection.close();
    await connection.close(); // idempotent
    expect(connection.isHealthy()).toBe(false);
    expect(connection.nc.isClosed()).toBe(true);
  });

  it('turns unhealthy while NATS is gone but keeps reconnecting instead of closing', async () => {
    // A server of its own, since this one is killed.
    const own = await startNatsServer();
    const connection = await connectJetStream({ servers: own.url, service: 'conn-spec-outage' });
    try {
      expect(connection.isHealthy()).toBe(true);
      await own.stop();
      const deadline = Date.now() + 10_000;
      while (connection.isHealthy() && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(connection.isHealthy()).toBe(false);
      expect(connection.nc.isClosed()).toBe(false);
    } finally {
      await connection.nc.close();
      await own.stop();
    }
  });

  it('fails the first connect with an error naming the URL', async () => {
    const port = await freePort();
    const dead = `nats://127.0.0.1:${port}`;
    await expect(
      connectJetStream({ servers: dead, service: 'nobody', connectTimeoutMs: 1_000 }),
    ).rejects.toThrow(`cannot connect to NATS at ${dead}`);
  });

  it('rejects nonsense settings before connecting', async () => {
    await expect(connectJetStream({ servers: url, service: 's', replicas: 0 })).rejects.toThrow(
      'replicas',
    );
  });
});

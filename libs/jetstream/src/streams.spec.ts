import { randomBytes } from 'node:crypto';
import { STREAMS, type StreamSpec } from '@sup/contracts';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { ensureStream, ensureStreams, streamConfig } from './streams';

jest.setTimeout(20_000);

const HOUR = 3_600_000;
const NS = 1_000_000;
const GiB = 1024 ** 3;

let connection: JetStreamConnection;
let stop: () => Promise<void>;

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  connection = await connectJetStream({ servers: nats.url, service: 'streams-spec' });
});

afterAll(async () => {
  await connection?.close();
  await stop?.();
});

/** A stream of this test's own, so a shared server's contract streams are left alone. */
function ownSpec(retention?: StreamSpec['retention']): StreamSpec {
  const tag = randomBytes(4).toString('hex');
  return {
    name: `SPEC_${tag.toUpperCase()}`,
    subjects: [`spec-${tag}.>`],
    description: 'streams spec',
    ...(retention ? { retention } : {}),
  };
}

const settings = (
  limits: { maxAgeMs: number; maxBytes: number },
  spec: StreamSpec,
  duplicateWindowMs = 10 * 60_000,
) => ({ replicas: 1, duplicateWindowMs, limits: { [spec.name]: limits } });

describe('streamConfig', () => {
  it('maps limits to nanoseconds and bytes, with JetStream spelling "no limit" as 0 / -1', () => {
    const spec = ownSpec();
    expect(streamConfig(spec, settings({ maxAgeMs: HOUR, maxBytes: GiB }, spec))).toMatchObject({
      retention: 'limits',
      max_age: HOUR * NS,
      max_bytes: GiB,
      duplicate_window: 10 * 60_000 * NS,
    });
    expect(streamConfig(spec, settings({ maxAgeMs: 0, maxBytes: 0 }, spec))).toMatchObject({
      max_age: 0,
      max_bytes: -1,
    });
  });

  it('takes the retention from the spec, limits by default', () => {
    const spec = ownSpec('workqueue');
    const base = { replicas: 1, duplicateWindowMs: 60_000 };
    expect(streamConfig(spec, base).retention).toBe('workqueue');
    expect(streamConfig({ ...spec, retention: undefined }, base).retention).toBe('limits');
  });
});

describe('ensureStreams against nats-server', () => {
  it('creates the contract streams with their default retention limits', async () => {
    await ensureStreams(connection.jsm, { replicas: 1, duplicateWindowMs: 10 * 60_000 });
    const expected: Record<string, { max_age: number; max_bytes: number }> = {
      UPDATES: { max_age: 720 * HOUR * NS, max_bytes: 10 * GiB },
      ALERTS: { max_age: 2160 * HOUR * NS, max_bytes: GiB },
      DLQ: { max_age: 2160 * HOUR * NS, max_bytes: GiB },
      FEEDS: { max_age: 0, max_bytes: -1 },
    };
    for (const spec of STREAMS) {
      const { config } = await connection.jsm.streams.info(spec.name);
      expect(config).toMatchObject({
        retention: spec.retention ?? 'limits',
        ...expected[spec.name],
      });
    }
  });

  it('updates drifted limits and duplicate window in place, keeping the messages', async () => {
    const spec = ownSpec();
    const first = await ensureStream(
      connection.jsm,
      streamConfig(spec, settings({ maxAgeMs: 24 * HOUR, maxBytes: GiB }, spec)),
    );
    await connection.js.publish(spec.subjects[0].replace('>', 'kept'), 'x');

    const after = await ensureStream(
      connection.jsm,
      streamConfig(spec, settings({ maxAgeMs: 2 * HOUR, maxBytes: 0 }, spec, 60_000)),
    );
    expect(after.config).toMatchObject({
      max_age: 2 * HOUR * NS,
      max_bytes: -1,
      duplicate_window: 60_000 * NS,
    });
    expect(after.state.messages).toBe(1);
    expect(after.created).toBe(first.created);

    // Converged: nothing to do the second time, and "no limit" compares equal to what JetStream stored.
    const again = await ensureStream(
      connection.jsm,
      streamConfig(spec, settings({ maxAgeMs: 2 * HOUR, maxBytes: 0 }, spec, 60_000)),
    );
    expect(again.config).toEqual(after.config);
  });

  it('raises the max age and the duplicate window together, which JetStream checks as one config', async () => {
    const spec = ownSpec();
    await ensureStream(
      connection.jsm,
      streamConfig(spec, settings({ maxAgeMs: HOUR, maxBytes: 0 }, spec, HOUR)),
    );
    const info = await ensureStream(
      connection.jsm,
      streamConfig(spec, settings({ maxAgeMs: 3 * HOUR, maxBytes: 0 }, spec, 2 * HOUR)),
    );
    expect(info.config).toMatchObject({ max_age: 3 * HOUR * NS, duplicate_window: 2 * HOUR * NS });
  });

  it('creates a work queue stream from a spec that asks for one', async () => {
    const spec = ownSpec('workqueue');
    const info = await ensureStream(
      connection.jsm,
      streamConfig(spec, { replicas: 1, duplicateWindowMs: 60_000 }),
    );
    expect(info.config).toMatchObject({ retention: 'workqueue', max_age: 0, max_bytes: -1 });
  });

  it('refuses loudly to change the retention of an existing stream, leaving it as it is', async () => {
    const spec = ownSpec();
    const base = { replicas: 1, duplicateWindowMs: 60_000 };
    await ensureStream(connection.jsm, streamConfig(spec, base));
    const asWorkQueue = streamConfig({ ...spec, retention: 'workqueue' }, base);
    await expect(ensureStream(connection.jsm, asWorkQueue)).rejects.toThrow(
      new RegExp(`stream ${spec.name} exists with .*retention=limits.*nats stream rm ${spec.name}`),
    );
    expect((await connection.jsm.streams.info(spec.name)).config.retention).toBe('limits');
  });

  it('checks every setting before touching any stream', async () => {
    const spec = ownSpec();
    await expect(
      ensureStreams(connection.jsm, settings({ maxAgeMs: 60_000, maxBytes: 0 }, spec, HOUR), [
        spec,
      ]),
    ).rejects.toThrow(/duplicate window .* longer than stream SPEC_\w+'s max age/);
    await expect(connection.jsm.streams.info(spec.name)).rejects.toThrow(/stream not found/);
  });

  it('names the stream and the setting when JetStream cannot reserve the max bytes', async () => {
    const spec = ownSpec();
    const huge = settings({ maxAgeMs: 0, maxBytes: 2 ** 50 }, spec);
    await expect(ensureStream(connection.jsm, streamConfig(spec, huge))).rejects.toThrow(
      `stream ${spec.name}: JetStream cannot reserve its max bytes`,
    );
    await expect(ensureStream(connection.jsm, streamConfig(spec, huge))).rejects.toThrow(
      `Lower JS_${spec.name}_MAX_BYTES`,
    );
  });
});

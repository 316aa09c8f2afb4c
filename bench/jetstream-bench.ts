import { AckPolicy } from '@nats-io/jetstream';
import { connectJetStream } from '@sup/jetstream';
import { useNats, type RunningNats } from '@sup/process';

export interface JetStreamCeiling {
  messages: number;
  publishPerSecond: number;
  consumePerSecond: number;
}

/**
 * The physical reference for the pipeline: raw JetStream on this machine, in this run. Publishes
 * `messages` 1 KiB messages (256 awaiting their acknowledgement at once, file storage, like the
 * pipeline's streams), then pulls and acknowledges them all in batches.
 */
export async function benchJetStream(messages = 20_000): Promise<JetStreamCeiling> {
  const nats: RunningNats = await useNats();
  // The pipeline's own connection settings (async traces off), so the ceiling is comparable.
  const connection = await connectJetStream({ servers: nats.url, service: 'bench' });
  const { jsm, js, nc } = connection;
  try {
    await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });
    const payload = new Uint8Array(1024);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        for (let i = next++; i < messages; i = next++) {
          await js.publish(`bench.m.${i}`, payload, { msgID: `m${i}` });
        }
      }),
    );
    const publishPerSecond = messages / ((performance.now() - started) / 1000);

    await jsm.consumers.add('BENCH', { durable_name: 'bench', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get('BENCH', 'bench');
    const consumeStart = performance.now();
    let seen = 0;
    for await (const m of await consumer.consume({ max_messages: 1_000 })) {
      m.ack();
      if (++seen >= messages) break;
    }
    await nc.flush();
    const consumePerSecond = messages / ((performance.now() - consumeStart) / 1000);
    await jsm.streams.delete('BENCH');
    return { messages, publishPerSecond, consumePerSecond };
  } finally {
    await connection.close();
    await nats.stop();
  }
}

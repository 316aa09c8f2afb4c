import { jetstream, type Consumer } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  relayDurable,
  relayNatsPermissions,
  relayNatsUser,
  serviceInboxPrefix,
  SUBJECTS,
} from '@sup/contracts';
import { connectJetStream, consumerConfig, ensureConsumer } from '@sup/jetstream';
import { freePort, natsServerBinary, startProcess, waitForPort } from '@sup/process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from './stats';

export interface FanoutResult {
  consumers: number;
  /** Per trial (three publishes, one at a time): from the publish to the last consumer holding it. */
  allNotifiedMs: number[];
  p50Ms: number;
  p99Ms: number;
  setupSeconds: number;
  /** Pulls that failed (and were retried) during the run. */
  pullErrors: number;
}

const quoted = (s: string) => JSON.stringify(s);
const userBlock = (user: string, password: string, pub: string[], sub: string[]) =>
  `{ user: ${quoted(user)}, password: ${quoted(password)}, permissions: { publish: { allow: [${pub.map(quoted).join(',')}] }, subscribe: { allow: [${sub.map(quoted).join(',')}] } } }`;

/** Runs `work` over `items`, `limit` at a time. */
async function eachLimit<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i]);
    }),
  );
}

/**
 * One security update fanned out to `count` relays, as their NATS consumers see it: a nats-server
 * with JetStream and one user per relay (libs/contracts relayNatsPermissions), each relay's
 * durable `relay-<id>` on `updates.v1.published.*` as services/relay declares it, each pulled by
 * its own connection as that user with the relay's fetch loop. Real relay processes (a Nest app,
 * an HTTP server and a cache each) are too heavy to run 1,000 of on one machine; the consumers
 * are what the fan-out costs. A warm-up message first proves every consumer is pulling; then three
 * messages are published one at a time, each timed until every consumer has it. The times are
 * taken in this one Node process that runs all 1,000 clients, so they include its own queueing.
 */
export async function benchFanout(count = 1_000): Promise<FanoutResult> {
  const setupStart = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'sup-fanout-'));
  const relays = Array.from({ length: count }, (_, i) => ({
    id: `r${String(i).padStart(4, '0')}`,
    password: randomBytes(12).toString('base64url'),
  }));
  const admin = { user: 'admin', password: randomBytes(12).toString('base64url') };
  const users = [
    userBlock(admin.user, admin.password, ['>'], ['>']),
    ...relays.map((r) => {
      const p = relayNatsPermissions(r.id);
      return userBlock(relayNatsUser(r.id), r.password, p.publish, p.subscribe);
    }),
  ];
  const config = join(dir, 'nats.conf');
  writeFileSync(config, `authorization: { users: [\n${users.join('\n')}\n] }\n`, { mode: 0o600 });
  const port = await freePort();
  const server = startProcess(
    'nats-fanout',
    natsServerBinary(),
    ['-c', config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js')],
    { logFile: join(dir, 'nats.log') },
  );
  const servers = `nats://127.0.0.1:${port}`;
  const connections: NatsConnection[] = [];
  let stopping = false;
  const loops: Promise<void>[] = [];
  try {
    await waitForPort(server, port, 15_000);
    const control = await connectJetStream({ servers, service: 'bench', auth: admin });
    try {
      const settings = { maxDeliver: 5, backoffMs: [1_000], ackWaitMs: 30_000, maxAckPending: 16 };
      await eachLimit(relays, 32, async (r) => {
        const durable = relayDurable(r.id);
        await ensureConsumer(
          control.jsm,
          'UPDATES',
          consumerConfig(durable, `${SUBJECTS.published}.*`, `bench relay ${r.id}`, settings),
        );
      });
      const seen = new Map<string, Map<string, number>>();
      let pullErrors = 0;
      const pull = async (r: (typeof relays)[number], consumer: Consumer) => {
        while (!stopping) {
          try {
            const batch = await consumer.fetch({ max_messages: 4, expires: 2_000 });
            for await (const msg of batch) {
              const at = performance.now();
              const bySubject = seen.get(msg.subject) ?? new Map<string, number>();
              seen.set(msg.subject, bySubject);
              if (!bySubject.has(r.id)) bySubject.set(r.id, at);
              msg.ack();
            }
          } catch (error) {
            if (process.env.BENCH_DEBUG) process.stderr.write(`${String(error)}\n`);
            // As the relay does: a failed pull is retried after a pause, the loop never ends.
            pullErrors++;
            if (!stopping) await new Promise((res) => setTimeout(res, 250));
          }
        }
      };
      await eachLimit(relays, 32, async (r) => {
        const nc = (await connect({
          servers,
          user: relayNatsUser(r.id),
          pass: r.password,
          inboxPrefix: serviceInboxPrefix(relayNatsUser(r.id)),
          noAsyncTraces: true,
        })) as NatsConnection;
        connections.push(nc);
        const consumer = await jetstream(nc).consumers.get('UPDATES', relayDurable(r.id));
        loops.push(pull(r, consumer));
      });
      const publishAndWait = async (subject: string) => {
        const started = performance.now();
        await control.js.publish(subject, JSON.stringify({ bench: true }), {
          msgID: subject,
        });
        while ((seen.get(subject)?.size ?? 0) < count) {
          if (performance.now() - started > 120_000)
            throw new Error(
              `only ${seen.get(subject)?.size ?? 0} of ${count} consumers notified (${pullErrors} failed pulls)`,
            );
          await new Promise((r) => setTimeout(r, 5));
        }
        return [...(seen.get(subject)?.values() ?? [])].map((at) => at - started);
      };
      await publishAndWait(`${SUBJECTS.published}.upd_${'0'.repeat(24)}`);
      const setupSeconds = (performance.now() - setupStart) / 1000;
      const trials: number[][] = [];
      for (let t = 1; t <= 3; t++) {
        trials.push(await publishAndWait(`${SUBJECTS.published}.upd_${String(t).repeat(24)}`));
        await new Promise((res) => setTimeout(res, 1_000));
      }
      const all = trials.flat();
      return {
        consumers: count,
        allNotifiedMs: trials.map((l) => Math.max(...l)),
        p50Ms: percentile(all, 50),
        p99Ms: percentile(all, 99),
        setupSeconds,
        pullErrors,
      };
    } finally {
      stopping = true;
      await control.close();
    }
  } finally {
    stopping = true;
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all(loops);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

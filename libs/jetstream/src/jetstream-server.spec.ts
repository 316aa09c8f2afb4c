import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import {
  Controller,
  Inject,
  Module,
  type DynamicModule,
  type INestMicroservice,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { dlqSubject, SUBJECTS, type CloudEvent, type EventData } from '@sup/contracts';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { durableName } from './consumer-config';
import type { DeadLetter } from './dead-letter';
import { PermanentError } from './errors';
import { JetStreamEventContext } from './event-context';
import { EventPublisher } from './event-publisher';
import { JetStreamModule } from './jetstream.module';
import { JetStreamServer, type JetStreamServerOptions } from './jetstream-server';
import type { JetStreamLogger } from './logger';
import { OnEvent } from './on-event';

jest.setTimeout(30_000);

// A stream with limits retention: several durables of one subject must be allowed.
const SUBJECT = SUBJECTS.alertResolved;
const STREAM = 'ALERTS';
type SyncEvent = CloudEvent<typeof SUBJECT>;

/** What a handler does with an event; `consumer` tells the main and projection handlers apart. */
type Behaviour = (
  event: SyncEvent,
  ctx: JetStreamEventContext,
  consumer: string,
) => void | Promise<void>;
const BEHAVIOUR = Symbol('BEHAVIOUR');

@Controller()
class MainHandler {
  constructor(@Inject(BEHAVIOUR) private readonly behave: Behaviour) {}

  @OnEvent(SUBJECT)
  async handle(@Payload() event: SyncEvent, @Ctx() ctx: JetStreamEventContext): Promise<void> {
    await this.behave(event, ctx, 'main');
  }
}

@Controller()
class ProjectionHandler {
  constructor(@Inject(BEHAVIOUR) private readonly behave: Behaviour) {}

  @OnEvent(SUBJECT, { consumer: 'projection' })
  async handle(@Payload() event: SyncEvent, @Ctx() ctx: JetStreamEventContext): Promise<void> {
    await this.behave(event, ctx, 'projection');
  }
}

@Module({})
class TestAppModule {
  static with(
    connection: JetStreamConnection,
    behaviour: Behaviour,
    controllers: unknown[],
  ): DynamicModule {
    return {
      module: TestAppModule,
      imports: [JetStreamModule.forRoot(connection, '/services/test')],
      controllers: controllers as DynamicModule['controllers'],
      providers: [{ provide: BEHAVIOUR, useValue: behaviour }],
    };
  }
}

interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg?: string;
  outcome?: string;
  eventId?: string;
  [key: string]: unknown;
}

function captureLogger(lines: LogLine[]): JetStreamLogger {
  const at =
    (level: LogLine['level']) =>
    (obj: object, msg?: string): void => {
      lines.push({ ...(obj as Record<string, unknown>), level, msg });
    };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

interface RunningApp {
  app: INestMicroservice;
  connection: JetStreamConnection;
  logs: LogLine[];
  close(): Promise<void>;
}

let natsUrl: string;
let stopNats: () => Promise<void>;
let admin: JetStreamConnection;
const running = new Set<RunningApp>();
const createdServices: string[] = [];

beforeAll(async () => {
  const nats = await useNats();
  natsUrl = nats.url;
  stopNats = () => nats.stop();
  admin = await connectJetStream({ servers: natsUrl, service: 'spec-admin' });
});

afterEach(async () => {
  await Promise.all([...running].map((r) => r.close()));
  running.clear();
});

afterAll(async () => {
  // Tidy durables when the suite ran against a shared server (NATS_URL).
  for (const service of createdServices) {
    for await (const ci of admin.jsm.consumers.list(STREAM)) {
      if (ci.name.startsWith(`${service}-`)) await admin.jsm.consumers.delete(STREAM, ci.name);
    }
  }
  await admin?.close();
  await stopNats?.();
});

/** A service name (and so a set of durables) of its own, and a tag to recognise its own events. */
function isolate(): { service: string; tag: string } {
  const tag = randomBytes(4).toString('hex');
  const service = `spec${tag}`;
  createdServices.push(service);
  return { service, tag };
}

async function startApp(
  service: string,
  behaviour: Behaviour,
  options: JetStreamServerOptions = {},
  controllers: unknown[] = [MainHandler],
): Promise<RunningApp> {
  const connection = await connectJetStream({ servers: natsUrl, service });
  const logs: LogLine[] = [];
  const server = new JetStreamServer(connection, { logger: captureLogger(logs), ...options });
  const app = await NestFactory.createMicroservice(
    TestAppModule.with(connection, behaviour, controllers),
    {
      strategy: server,
      logger: false,
    },
  );
  await app.listen();
  let closing: Promise<void> | undefined;
  const entry: RunningApp = {
    app,
    connection,
    logs,
    close: () => (closing ??= app.close().then(() => connection.close())),
  };
  running.add(entry);
  return entry;
}

function syncData(tag: string, n = 0): EventData<typeof SUBJECT> {
  return {
    alertId: `alr_${randomBytes(12).toString('hex')}`,
    rule: 'spec-rule',
    reason: `https://feeds.test/${tag}/${n}`,
    resolvedAt: new Date().toISOString(),
  };
}

const ownEvent = (event: SyncEvent, tag: string): boolean => event.data.reason.includes(`/${tag}/`);

/** Publishes `data` as the decision about its alert (`<type>.<alert id>`). */
const publishAs = (data: EventData<typeof SUBJECT>, id: string) =>
  publisher().publish({ type: SUBJECT, entityId: data.alertId, data, id });

async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Dead letters for a service, collected from a core subscription opened before the app starts. */
function collectDeadLetters(service: string): DeadLetter[] {
  const letters: DeadLetter[] = [];
  admin.nc.subscribe(dlqSubject(service, '>'), {
    callback: (err, msg) => {
      if (!err) letters.push(msg.json<DeadLetter>());
    },
  });
  return letters;
}

const consumerInfo = (service: string, consumer = 'main') =>
  admin.jsm.consumers.info(STREAM, durableName(service, consumer, SUBJECT));

const publisher = (): EventPublisher => new EventPublisher(admin, '/services/spec');

describe('JetStreamServer in a Nest microservice', () => {
  it('delivers a published event to its handler as a parsed CloudEvent, then logs one ack line', async () => {
    const { service, tag } = isolate();
    const seen: Array<{
      event: SyncEvent;
      deliveryCount: number;
      subject: string;
      streamSeq: number;
    }> = [];
    const { logs } = await startApp(service, (event, ctx) => {
      if (ownEvent(event, tag)) {
        seen.push({
          event,
          deliveryCount: ctx.deliveryCount,
          subject: ctx.subject,
          streamSeq: ctx.streamSeq,
        });
      }
    });

    const data = syncData(tag);
    const id = `evt-${tag}`;
    const ack = await publishAs(data, id);
    expect(ack.duplicate).toBe(false);

    await waitFor('the handler', () => seen.length === 1);
    const [call] = seen;
    expect(call.event).toMatchObject({
      specversion: '1.0',
      id,
      source: '/services/spec',
      type: `io.signed-update-pipeline.${SUBJECT}`,
      subject: data.alertId,
      data,
    });
    expect(call.deliveryCount).toBe(1);
    expect(call.subject).toBe(`${SUBJECT}.${data.alertId}`);
    expect(call.streamSeq).toBe(ack.seq);

    await waitFor('the log line', () => logs.some((l) => l.eventId === id));
    const lines = logs.filter((l) => l.eventId === id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      subject: SUBJECT,
      correlationId: data.alertId,
      deliveryCount: 1,
      outcome: 'ack',
    });
    expect(typeof lines[0].durationMs).toBe('number');
  });

  it('acks only after the handler resolves', async () => {
    const { service, tag } = isolate();
    const release = deferred();
    let calls = 0;
    await startApp(service, async (event) => {
      if (!ownEvent(event, tag)) return;
      calls++;
      await release.promise;
    });
    const { seq } = await publishAs(syncData(tag), `evt-${tag}`);

    await waitFor('the handler to start', () => calls === 1);
    const during = await consumerInfo(service);
    expect(during.num_ack_pending).toBeGreaterThanOrEqual(1);
    expect(during.ack_floor.stream_seq).toBeLessThan(seq);

    release.resolve();
    await waitFor('the ack', async () => (await consumerInfo(service)).num_ack_pending === 0);
    const after = await consumerInfo(service);
    expect(after.ack_floor.stream_seq).toBeGreaterThanOrEqual(seq);
    expect(after.num_redelivered).toBe(0);
    expect(calls).toBe(1);
  });

  it('retries a failing handler with back-off and dead-letters it after maxDeliver', async () => {
    const { service, tag } = isolate();
    const letters = collectDeadLetters(service);
    const attempts: number[] = [];
    const { logs } = await startApp(
      service,
      (event, ctx) => {
        if (!ownEvent(event, tag)) return;
        attempts.push(ctx.deliveryCount);
        throw new Error(`boom ${ctx.deliveryCount}`);
      },
      { maxDeliver: 3, backoffMs: [50, 50] },
    );
    const data = syncData(tag);
    const id = `evt-${tag}`;
    const { seq } = await publishAs(data, id);

    await waitFor('the dead letter', () => letters.some((l) => l.streamSeq === seq));
    const letter = letters.find((l) => l.streamSeq === seq)!;
    expect(letter).toMatchObject({
      service,
      consumer: durableName(service, 'main', SUBJECT),
      subject: `${SUBJECT}.${data.alertId}`,
      streamSeq: seq,
      deliveries: 3,
      error: 'boom 3',
    });
    expect(new Date(letter.failedAt).toISOString()).toBe(letter.failedAt);
    expect(JSON.parse(letter.event)).toMatchObject({ id, subject: data.alertId, data });

    await waitFor('the term', async () => (await consumerInfo(service)).num_ack_pending === 0);
    expect(attempts).toEqual([1, 2, 3]);
    const outcomes = logs.filter((l) => l.eventId === id).map((l) => l.outcome);
    expect(outcomes).toEqual(['nak', 'nak', 'dead-letter']);
    expect(logs.find((l) => l.eventId === id && l.outcome === 'dead-letter')).toMatchObject({
      level: 'error',
      deliveryCount: 3,
      err: expect.objectContaining({ message: 'boom 3' }) as unknown,
    });
  });

  it('dead-letters a PermanentError on the first attempt', async () => {
    const { service, tag } = isolate();
    const letters = collectDeadLetters(service);
    let calls = 0;
    await startApp(service, (event) => {
      if (!ownEvent(event, tag)) return;
      calls++;
      throw new PermanentError('cannot ever work');
    });
    const { seq } = await publishAs(syncData(tag), `evt-${tag}`);

    await waitFor('the dead letter', () => letters.some((l) => l.streamSeq === seq));
    expect(letters.find((l) => l.streamSeq === seq)).toMatchObject({
      deliveries: 1,
      error: 'cannot ever work',
    });
    await waitFor('the term', async () => (await consumerInfo(service)).num_ack_pending === 0);
    expect(calls).toBe(1);
  });

  it('sends a payload that is not JSON or breaks the contract straight to the DLQ, never to the handler', async () => {
    const { service } = isolate();
    const letters = collectDeadLetters(service);
    const handledSeqs: number[] = [];
    await startApp(service, (_event, ctx) => {
      handledSeqs.push(ctx.streamSeq);
    });
    const notJson = 'definitely { not json';
    const wrongShape = JSON.stringify({ specversion: '1.0', id: 'x', hello: 'world' });
    const a = await admin.js.publish(`${SUBJECT}.alr_a${service}`, notJson, {
      msgID: `raw-a-${service}`,
    });
    const b = await admin.js.publish(`${SUBJECT}.alr_b${service}`, wrongShape, {
      msgID: `raw-b-${service}`,
    });

    await waitFor('both dead letters', () =>
      [a.seq, b.seq].every((seq) => letters.some((l) => l.streamSeq === seq)),
    );
    const forA = letters.find((l) => l.streamSeq === a.seq)!;
    const forB = letters.find((l) => l.streamSeq === b.seq)!;
    expect(forA).toMatchObject({ deliveries: 1, event: notJson });
    expect(forA.error).toContain('not JSON');
    expect(forB).toMatchObject({ deliveries: 1, event: wrongShape });
    expect(forB.error).toContain('breaks its contract');
    expect(handledSeqs).not.toContain(a.seq);
    expect(handledSeqs).not.toContain(b.seq);
  });

  it('reports a re-publish with the same id as a duplicate and delivers it once', async () => {
    const { service, tag } = isolate();
    const handled: string[] = [];
    await startApp(service, (event) => {
      if (ownEvent(event, tag)) handled.push(event.id);
    });
    const data = syncData(tag, 1);
    const first = await publishAs(data, `dup-${tag}`);
    const second = await publishAs(data, `dup-${tag}`);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ seq: first.seq, duplicate: true });

    // A later event proves the consumer got past the point where a second copy would have been.
    await publishAs(syncData(tag, 2), `sentinel-${tag}`);
    await waitFor('the sentinel', () => handled.includes(`sentinel-${tag}`));
    expect(handled.filter((id) => id === `dup-${tag}`)).toHaveLength(1);
  });

  it('gives two handlers of one subject with different consumer names each their own copy', async () => {
    const { service, tag } = isolate();
    const got: string[] = [];
    await startApp(
      service,
      (event, _ctx, consumer) => {
        if (ownEvent(event, tag)) got.push(consumer);
      },
      {},
      [MainHandler, ProjectionHandler],
    );
    await publishAs(syncData(tag), `evt-${tag}`);

    await waitFor('both handlers', () => got.length === 2);
    expect(got.sort()).toEqual(['main', 'projection']);
    await expect(consumerInfo(service, 'main')).resolves.toBeDefined();
    await expect(consumerInfo(service, 'projection')).resolves.toBeDefined();
  });

  it('splits the work of one durable between two replicas, each message handled once overall', async () => {
    const { service, tag } = isolate();
    const handledBy = new Map<string, string[]>();
    // The first own event holds its replica until the other replica has one too: with
    // concurrency 1 that only happens if the server hands the second event to the other replica.
    const bothBusy = deferred();
    const busy = new Set<string>();
    const behaviour =
      (replica: string): Behaviour =>
      async (event) => {
        if (!ownEvent(event, tag)) return;
        handledBy.set(event.id, [...(handledBy.get(event.id) ?? []), replica]);
        busy.add(replica);
        if (busy.size === 2) bothBusy.resolve();
        await bothBusy.promise;
      };
    await startApp(service, behaviour('a'), { concurrency: 1 });
    await startApp(service, behaviour('b'), { concurrency: 1 });

    const ids = Array.from({ length: 10 }, (_, i) => `evt-${tag}-${i}`);
    for (const [i, id] of ids.entries()) await publishAs(syncData(tag, i), id);

    await waitFor('all events', () => ids.every((id) => handledBy.has(id)));
    await waitFor('all acks', async () => (await consumerInfo(service)).num_ack_pending === 0);
    for (const id of ids) expect(handledBy.get(id)).toHaveLength(1);
    const replicas = new Set([...handledBy.values()].flat());
    expect(replicas).toEqual(new Set(['a', 'b']));
  });

  it('keeps a handler that outlives the ack wait from being redelivered while it works', async () => {
    const { service, tag } = isolate();
    const attempts: number[] = [];
    await startApp(
      service,
      async (event, ctx) => {
        if (!ownEvent(event, tag)) return;
        attempts.push(ctx.deliveryCount);
        await new Promise((r) => setTimeout(r, 1_500));
      },
      // the server would redeliver after 300 + 50 ms without the heartbeat
      { ackWaitMs: 300, backoffMs: [50] },
    );
    await publishAs(syncData(tag), `evt-${tag}`);
    await waitFor('the handler', () => attempts.length > 0);
    await waitFor('the ack', async () => (await consumerInfo(service)).num_ack_pending === 0);
    expect(attempts).toEqual([1]);
    expect((await consumerInfo(service)).num_redelivered).toBe(0);
  });

  it('waits on close for an in-flight handler, then acks it', async () => {
    const { service, tag } = isolate();
    const release = deferred();
    let started = false;
    let finished = false;
    const app = await startApp(service, async (event) => {
      if (!ownEvent(event, tag)) return;
      started = true;
      await release.promise;
      finished = true;
    });
    const { seq } = await publishAs(syncData(tag), `evt-${tag}`);
    await waitFor('the handler to start', () => started);

    let closed = false;
    const closing = app.app.close().then(() => (closed = true));
    // Give close every chance to return early; it must not while the handler runs.
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);

    release.resolve();
    await closing;
    expect(finished).toBe(true);
    const info = await consumerInfo(service);
    expect(info.num_ack_pending).toBe(0);
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(seq);
  });

  it('hands a message back at once when a handler outlives the drain timeout', async () => {
    const { service, tag } = isolate();
    const stuck = deferred();
    let started = false;
    const first = await startApp(
      service,
      async (event) => {
        if (!ownEvent(event, tag)) return;
        started = true;
        await stuck.promise;
      },
      { drainTimeoutMs: 100 },
    );
    const id = `evt-${tag}`;
    await publishAs(syncData(tag), id);
    await waitFor('the first attempt', () => started);

    await first.close();
    expect(first.logs.filter((l) => l.eventId === id)).toEqual([
      expect.objectContaining({ outcome: 'nak', deliveryCount: 1 }),
    ]);

    // The ack wait is 30 s; the waitFor below gives up well before, so only an explicit nak passes.
    const attempts: number[] = [];
    await startApp(service, (event, ctx) => {
      if (ownEvent(event, tag)) attempts.push(ctx.deliveryCount);
    });
    await waitFor('the redelivery', () => attempts.length === 1, 10_000);
    // nats-server 2.9 may restart the count of a message nak'd after its pull request went away,
    // so only the prompt redelivery is asserted, not its number.
    expect(attempts).toHaveLength(1);
    stuck.resolve();
  });

  it('creates one durable pull consumer per handler with the delivery settings', async () => {
    const { service } = isolate();
    await startApp(service, () => undefined, {
      maxDeliver: 4,
      backoffMs: [100, 200],
      ackWaitMs: 2_000,
      maxAckPending: 50,
    });
    const created = await consumerInfo(service);
    const { config } = created;
    const ms = (n: number): number => n * 1_000_000;
    expect(config).toMatchObject({
      durable_name: `${service}-main-alerts_v1_resolved`,
      filter_subject: `${SUBJECT}.*`,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_deliver: 5,
      max_ack_pending: 50,
      backoff: [ms(2_100), ms(2_200), ms(2_200), ms(2_200)],
    });
    expect(config.deliver_subject).toBeUndefined();

    // A replica started with other settings updates the shared durable in place.
    await startApp(service, () => undefined, { maxDeliver: 2, backoffMs: [100], ackWaitMs: 2_000 });
    const updated = await consumerInfo(service);
    expect(updated.config).toMatchObject({ max_deliver: 3, backoff: [ms(2_100), ms(2_100)] });
    expect(updated.created).toBe(created.created);
  });
});

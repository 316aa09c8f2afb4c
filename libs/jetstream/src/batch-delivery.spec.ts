import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Payload } from '@nestjs/microservices';
import { dlqSubject, SUBJECTS, type EventData } from '@sup/contracts';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import type { DeadLetter } from './dead-letter';
import { EventBatch } from './event-batch';
import { EventPublisher } from './event-publisher';
import { JetStreamModule } from './jetstream.module';
import { JetStreamServer } from './jetstream-server';
import { OnEvents } from './on-event';

jest.setTimeout(30_000);

const SUBJECT = SUBJECTS.alertResolved;
type Batch = EventBatch<typeof SUBJECT>;
type Behaviour = (batch: Batch) => void | Promise<void>;
const BEHAVIOUR = Symbol('BEHAVIOUR');

@Controller()
class BatchHandler {
  constructor(@Inject(BEHAVIOUR) private readonly behave: Behaviour) {}

  @OnEvents(SUBJECT)
  async handle(@Payload() batch: Batch): Promise<void> {
    await this.behave(batch);
  }
}

@Module({})
class AppModule {
  static with(connection: JetStreamConnection, behaviour: Behaviour): DynamicModule {
    return {
      module: AppModule,
      imports: [JetStreamModule.forRoot(connection, '/services/batch-spec')],
      controllers: [BatchHandler],
      providers: [{ provide: BEHAVIOUR, useValue: behaviour }],
    };
  }
}

let natsUrl: string;
let stopNats: () => Promise<void>;
let admin: JetStreamConnection;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const nats = await useNats();
  natsUrl = nats.url;
  stopNats = () => nats.stop();
  admin = await connectJetStream({ servers: natsUrl, service: 'batch-spec-admin' });
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

afterAll(async () => {
  await admin?.close();
  await stopNats?.();
});

async function startApp(service: string, behaviour: Behaviour): Promise<void> {
  const connection = await connectJetStream({ servers: natsUrl, service });
  const silent = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const server = new JetStreamServer(connection, {
    logger: silent,
    batchSize: 64,
    maxDeliver: 3,
    backoffMs: [50],
    ackWaitMs: 2_000,
  });
  const app = await NestFactory.createMicroservice(AppModule.with(connection, behaviour), {
    strategy: server,
    logger: false,
  });
  await app.listen();
  closers.push(() => app.close().then(() => connection.close()));
}

function resolved(tag: string, n: number): EventData<typeof SUBJECT> {
  return {
    alertId: `alr_${tag}_${n}`,
    rule: 'batch-spec',
    reason: `${tag}/${n}`,
    resolvedAt: new Date().toISOString(),
  };
}

async function publishMany(tag: string, count: number): Promise<void> {
  const publisher = new EventPublisher(admin, '/services/batch-spec');
  const outcomes = await publisher.publishAll(
    Array.from({ length: count }, (_, n) => {
      const data = resolved(tag, n);
      return { type: SUBJECT, entityId: data.alertId, data, id: `${tag}-${n}` };
    }),
  );
  expect(outcomes.every((o) => o.ok)).toBe(true);
}

async function waitFor(what: string, predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Dead letters of `service`, from a core subscription opened before its app starts. */
function collectDeadLetters(service: string): DeadLetter[] {
  const letters: DeadLetter[] = [];
  admin.nc.subscribe(dlqSubject(service, '>'), {
    callback: (err, msg) => {
      if (!err) letters.push(msg.json<DeadLetter>());
    },
  });
  return letters;
}

const own = (tag: string, batch: Batch) =>
  batch.items.filter((i) => i.event.data.reason.startsWith(`${tag}/`));

describe('@OnEvents batch delivery', () => {
  it('hands many events to one call and acks each once', async () => {
    const tag = randomBytes(4).toString('hex');
    await publishMany(tag, 150);
    const sizes: number[] = [];
    const seen = new Map<string, number>();
    await startApp(`bspec${tag}`, (batch) => {
      const mine = own(tag, batch);
      if (mine.length) sizes.push(mine.length);
      for (const item of mine) {
        expect(item.subject).toBe(`${SUBJECT}.${item.entityId}`);
        expect(item.entityId).toBe(item.event.data.alertId);
        seen.set(item.entityId, (seen.get(item.entityId) ?? 0) + 1);
      }
    });
    await waitFor('every event', () => seen.size === 150);
    await new Promise((r) => setTimeout(r, 2_500)); // longer than the ack wait: nothing comes back
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
  });

  it('retries only the items the handler marks, with their delivery count', async () => {
    const tag = randomBytes(4).toString('hex');
    await publishMany(tag, 20);
    const attempts = new Map<string, number[]>();
    await startApp(`bspec${tag}`, (batch) => {
      for (const item of own(tag, batch)) {
        attempts.set(item.entityId, [...(attempts.get(item.entityId) ?? []), item.deliveryCount]);
        if (item.event.data.reason.endsWith('/7') && item.deliveryCount === 1)
          batch.retry(item, new Error('not yet'));
      }
    });
    await waitFor('the retried item', () => (attempts.get(`alr_${tag}_7`) ?? []).length === 2);
    expect(attempts.get(`alr_${tag}_7`)).toEqual([1, 2]);
    expect(attempts.get(`alr_${tag}_3`)).toEqual([1]);
  });

  it('isolates a poison message when the handler throws: it alone is dead-lettered', async () => {
    const tag = randomBytes(4).toString('hex');
    const service = `bspec${tag}`;
    const letters = collectDeadLetters(service);
    await publishMany(tag, 30);
    const done = new Set<string>();
    await startApp(service, (batch) => {
      const mine = own(tag, batch);
      if (mine.some((i) => i.event.data.reason.endsWith('/13'))) throw new Error('poison 13');
      for (const item of mine) done.add(item.entityId);
    });
    await waitFor('the dead letter', () => letters.length === 1);
    await waitFor('the others', () => done.size === 29);
    expect(letters[0]).toMatchObject({
      subject: `${SUBJECT}.alr_${tag}_13`,
      deliveries: 3,
      error: 'poison 13',
    });
    expect(done.has(`alr_${tag}_13`)).toBe(false);
  });

  it('dead-letters a message that breaks its contract without calling the handler for it', async () => {
    const tag = randomBytes(4).toString('hex');
    const service = `bspec${tag}`;
    const letters = collectDeadLetters(service);
    await admin.js.publish(`${SUBJECT}.alr_${tag}_bad`, '{"not":"an event"}');
    await publishMany(tag, 3);
    const done = new Set<string>();
    await startApp(service, (batch) => {
      for (const item of own(tag, batch)) done.add(item.entityId);
    });
    await waitFor('the good ones', () => done.size === 3);
    await waitFor('the dead letter', () => letters.length === 1);
    expect(letters[0].error).toMatch(/breaks its contract/);
  });
});

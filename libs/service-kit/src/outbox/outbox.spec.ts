import { SUBJECTS } from '@sup/contracts';
import type { EventPublisher, OutgoingEvent, PublishOutcome } from '@sup/jetstream';
import type { Logger } from 'pino';
import { decision } from '../outcomes';
import { Outbox, type Announcement } from './outbox';
import type { OutboxEntry, OutboxRepository } from './outbox-repository';

/** The outbox collection in memory: insert-once by id, oldest first, as the Mongo one. */
class MemoryOutboxRepository implements OutboxRepository {
  readonly entries = new Map<string, OutboxEntry>();
  readonly calls: { add: string[][]; list: number[]; remove: string[][] } = {
    add: [],
    list: [],
    remove: [],
  };
  /** When set, `add` fails with it (and stores nothing). */
  addError: Error | undefined;

  add(entries: OutboxEntry[]): Promise<void> {
    this.calls.add.push(entries.map((e) => e._id));
    if (this.addError) return Promise.reject(this.addError);
    for (const e of entries) if (!this.entries.has(e._id)) this.entries.set(e._id, e);
    return Promise.resolve();
  }

  list(limit: number): Promise<OutboxEntry[]> {
    this.calls.list.push(limit);
    const oldest = [...this.entries.values()].sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime(),
    );
    return Promise.resolve(oldest.slice(0, limit));
  }

  remove(ids: string[]): Promise<void> {
    this.calls.remove.push(ids);
    for (const id of ids) this.entries.delete(id);
    return Promise.resolve();
  }

  get ids(): string[] {
    return [...this.entries.keys()];
  }
}

/**
 * The stream as the publisher sees it: each event id is stored once (a re-publish is reported as
 * a duplicate), and the ids in `failing` cannot be published at all.
 */
class FakePublisher {
  readonly stored: string[] = [];
  readonly failing = new Set<string>();
  readonly batches: string[][] = [];

  publishAll(events: readonly OutgoingEvent[]): Promise<PublishOutcome[]> {
    this.batches.push(events.map((e) => e.id));
    return Promise.resolve(
      events.map((event): PublishOutcome => {
        if (this.failing.has(event.id)) {
          return { ok: false, event, error: new Error(`publish ${event.id}: timeout`) };
        }
        const duplicate = this.stored.includes(event.id);
        if (!duplicate) this.stored.push(event.id);
        return { ok: true, seq: this.stored.indexOf(event.id) + 1, duplicate };
      }),
    );
  }
}

/** Keeps what the outbox logs (pino's fields-then-message form is all it uses). */
class RecordingLogger {
  readonly lines: { level: 'info' | 'warn' | 'error'; fields: object; message: string }[] = [];
  private log(level: 'info' | 'warn' | 'error', fields: object, message: string): void {
    this.lines.push({ level, fields, message });
  }
  info = (fields: object, message: string) => this.log('info', fields, message);
  warn = (fields: object, message: string) => this.log('warn', fields, message);
  error = (fields: object, message: string) => this.log('error', fields, message);
  levels = () => this.lines.map((l) => l.level);
}

const alert = (n: number): OutgoingEvent =>
  decision(SUBJECTS.alertResolved, `alert-${n}`, {
    alertId: `alert-${n}`,
    rule: 'update-rejected',
    reason: 'resolved',
    resolvedAt: '2026-03-01T10:00:00.000Z',
  });

function setup(options = { sweepIntervalMs: 1_000, sweepBatch: 500 }) {
  const repository = new MemoryOutboxRepository();
  const publisher = new FakePublisher();
  const logger = new RecordingLogger();
  const outbox = new Outbox(
    repository,
    publisher as unknown as EventPublisher,
    logger as unknown as Pick<Logger, 'info' | 'warn' | 'error'>,
    options,
  );
  return { repository, publisher, logger, outbox };
}

const states = (announcements: Announcement[]) => announcements.map((a) => a.state);

describe('Outbox.announce', () => {
  it('announces nothing for no events, without asking the publisher', async () => {
    const { outbox, publisher, repository } = setup();
    expect(await outbox.announce([])).toEqual([]);
    expect(publisher.batches).toEqual([]);
    expect(repository.calls.add).toEqual([]);
  });

  it('writes nothing to the outbox when every event is published', async () => {
    const { outbox, publisher, repository, logger } = setup();
    const events = [alert(1), alert(2), alert(3)];
    expect(await outbox.announce(events)).toEqual([
      { state: 'published', duplicate: false },
      { state: 'published', duplicate: false },
      { state: 'published', duplicate: false },
    ]);
    expect(publisher.batches).toEqual([events.map((e) => e.id)]);
    expect(repository.calls).toEqual({ add: [], list: [], remove: [] });
    expect(logger.lines).toEqual([]);
  });

  it('reports an event the stream had already as a published duplicate', async () => {
    const { outbox } = setup();
    await outbox.announce([alert(1)]);
    expect(await outbox.announce([alert(2), alert(1)])).toEqual([
      { state: 'published', duplicate: false },
      { state: 'published', duplicate: true },
    ]);
  });

  it('queues the events that failed, and only those, in input order of the outcomes', async () => {
    const { outbox, publisher, repository, logger } = setup();
    const events = [alert(1), alert(2), alert(3), alert(4)];
    publisher.failing.add(events[1].id).add(events[3].id);

    const announced = await outbox.announce(events);

    expect(states(announced)).toEqual(['published', 'deferred', 'published', 'deferred']);
    expect(announced[1]).toMatchObject({ error: { message: `publish ${events[1].id}: timeout` } });
    expect(repository.calls.add).toEqual([[events[1].id, events[3].id]]);
    expect(repository.ids).toEqual([events[1].id, events[3].id]);
    // One entry per event, under the event id, holding the event as it was to be published.
    expect(repository.entries.get(events[1].id)).toEqual({
      _id: events[1].id,
      event: events[1],
      createdAt: expect.any(Date),
    });
    expect(publisher.stored).toEqual([events[0].id, events[2].id]);
    expect(logger.levels()).toEqual(['warn']);
    expect(logger.lines[0].fields).toMatchObject({ count: 2 });
  });

  it('queues an event that keeps failing only once', async () => {
    const { outbox, publisher, repository } = setup();
    publisher.failing.add(alert(1).id);
    await outbox.announce([alert(1)]);
    await outbox.announce([alert(1)]);
    expect(repository.ids).toEqual([alert(1).id]);
  });

  it("reports 'failed' for exactly the failed events when the outbox cannot take them", async () => {
    const { outbox, publisher, repository, logger } = setup();
    const events = [alert(1), alert(2), alert(3)];
    publisher.failing.add(events[0].id).add(events[2].id);
    repository.addError = new Error('mongo unavailable');

    const announced = await outbox.announce(events);

    expect(states(announced)).toEqual(['failed', 'published', 'failed']);
    // The caller retries with the publish error: that is what it could not do.
    expect(announced[0]).toMatchObject({ error: { message: `publish ${events[0].id}: timeout` } });
    expect(announced[1]).toEqual({ state: 'published', duplicate: false });
    expect(repository.ids).toEqual([]);
    expect(logger.levels()).toEqual(['error']);
    expect(logger.lines[0].fields).toMatchObject({ count: 2, err: repository.addError });
  });

  it('takes a non-Error thrown by the repository as the reason it logs', async () => {
    const { outbox, publisher, repository, logger } = setup();
    publisher.failing.add(alert(1).id);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
    repository.add = () => Promise.reject('disk full');
    expect(states(await outbox.announce([alert(1)]))).toEqual(['failed']);
    expect(logger.lines[0].fields).toMatchObject({ err: new Error('disk full') });
  });
});

describe('Outbox.sweep', () => {
  /** Announces `n` events while the stream is down, then brings it back but for `stillFailing`. */
  async function queued(n: number, stillFailing: number[] = [], sweepBatch = 500) {
    const s = setup({ sweepIntervalMs: 1_000, sweepBatch });
    const events = Array.from({ length: n }, (_, i) => alert(i + 1));
    for (const e of events) s.publisher.failing.add(e.id);
    // One by one, so the entries are created in order (the repository lists oldest first).
    for (const e of events) {
      await s.outbox.announce([e]);
      s.repository.entries.get(e.id)!.createdAt = new Date(
        Date.parse('2026-03-01') + events.indexOf(e),
      );
    }
    s.publisher.failing.clear();
    for (const i of stillFailing) s.publisher.failing.add(events[i].id);
    s.logger.lines.length = 0;
    s.publisher.batches.length = 0;
    return { ...s, events };
  }

  it('does nothing with an empty outbox', async () => {
    const { outbox, publisher, repository } = setup();
    expect(await outbox.sweep()).toEqual({ published: 0, remaining: 0 });
    expect(publisher.batches).toEqual([]);
    expect(repository.calls.remove).toEqual([]);
  });

  it('publishes the queued events, oldest first, and removes them', async () => {
    const { outbox, publisher, repository, events, logger } = await queued(3);
    expect(await outbox.sweep()).toEqual({ published: 3, remaining: 0 });
    expect(publisher.stored).toEqual(events.map((e) => e.id));
    expect(repository.ids).toEqual([]);
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'info', fields: { published: 3 } }),
    ]);
  });

  it('removes only the entries that were published', async () => {
    const { outbox, publisher, repository, events } = await queued(4, [0, 2]);
    expect(await outbox.sweep()).toEqual({ published: 2, remaining: 2 });
    expect(repository.calls.remove).toEqual([[events[1].id, events[3].id]]);
    expect(repository.ids).toEqual([events[0].id, events[2].id]);

    // The stream recovers: the next sweep takes the rest.
    publisher.failing.clear();
    expect(await outbox.sweep()).toEqual({ published: 2, remaining: 0 });
    expect(repository.ids).toEqual([]);
    expect(publisher.stored.slice().sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('removes nothing and logs nothing when nothing could be published', async () => {
    const { outbox, repository, logger } = await queued(2, [0, 1]);
    expect(await outbox.sweep()).toEqual({ published: 0, remaining: 2 });
    expect(repository.calls.remove).toEqual([[]]);
    expect(repository.ids).toHaveLength(2);
    expect(logger.lines).toEqual([]);
  });

  it('is harmless twice: the second sweep finds nothing to do', async () => {
    const { outbox, publisher, repository } = await queued(2);
    await outbox.sweep();
    expect(await outbox.sweep()).toEqual({ published: 0, remaining: 0 });
    expect(publisher.batches).toHaveLength(1);
    expect(repository.ids).toEqual([]);
  });

  it('is harmless on two replicas at once: each event is stored once and the outbox empties', async () => {
    const { outbox, publisher, repository, events } = await queued(3);
    const results = await Promise.all([outbox.sweep(), outbox.sweep()]);
    expect(results.map((r) => r.remaining)).toEqual([0, 0]);
    expect(publisher.stored).toEqual(events.map((e) => e.id));
    expect(repository.ids).toEqual([]);
  });

  it('removes an entry whose event reached the stream before (a duplicate is published)', async () => {
    // Two replicas swept the same entry, or the last sweep died between publish and remove.
    const { outbox, publisher, repository, events } = await queued(1);
    publisher.stored.push(events[0].id);
    expect(await outbox.sweep()).toEqual({ published: 1, remaining: 0 });
    expect(publisher.stored).toEqual([events[0].id]);
    expect(repository.ids).toEqual([]);
  });

  it('takes at most sweepBatch entries per sweep, the oldest', async () => {
    const { outbox, repository, publisher, events } = await queued(5, [], 2);
    expect(await outbox.sweep()).toEqual({ published: 2, remaining: 0 });
    expect(repository.calls.list).toEqual([2]);
    expect(publisher.stored).toEqual([events[0].id, events[1].id]);
    expect(repository.ids).toEqual(events.slice(2).map((e) => e.id));
  });
});

describe('Outbox.start and stop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sweeps every interval, one sweep at a time, and stop waits for the one running', async () => {
    const { outbox, repository } = setup({ sweepIntervalMs: 1_000, sweepBatch: 10 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const list = repository.list.bind(repository);
    repository.list = async (limit) => {
      await gate;
      return list(limit);
    };

    outbox.start();
    outbox.start(); // a second start keeps the one timer
    await jest.advanceTimersByTimeAsync(3_500);
    // Three ticks, but the first sweep is still waiting on the repository: no second one began.
    expect(repository.calls.list).toEqual([]);

    const stopped = outbox.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    release();
    await stopped;
    expect(repository.calls.list).toEqual([10]);

    // Stopped: no more sweeps however long we wait.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(repository.calls.list).toEqual([10]);
  });

  it('keeps sweeping after a sweep fails, logging it', async () => {
    const { outbox, repository, logger } = setup({ sweepIntervalMs: 1_000, sweepBatch: 10 });
    let calls = 0;
    repository.list = () =>
      ++calls === 1 ? Promise.reject(new Error('mongo down')) : Promise.resolve([]);
    outbox.start();
    await jest.advanceTimersByTimeAsync(2_000);
    await outbox.stop();
    expect(calls).toBe(2);
    expect(logger.lines).toEqual([
      expect.objectContaining({ level: 'warn', message: 'outbox sweep failed' }),
    ]);
  });
});

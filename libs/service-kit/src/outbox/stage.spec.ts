import { buildEvent, SUBJECTS } from '@sup/contracts';
import { EventBatch, type BatchItem, type OutgoingEvent } from '@sup/jetstream';
import { decision } from '../outcomes';
import type { Announcement, Outbox } from './outbox';
import { announceBatch, mapLimited } from './stage';

/** A promise the test settles by hand, so the order things finish in is the test's choice. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ([resolve, reject] = [res, rej]));
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('mapLimited', () => {
  it('keeps results in input order whatever order they finish in', async () => {
    const gates = [0, 1, 2, 3].map(() => deferred<string>());
    const running = mapLimited(['a', 'b', 'c', 'd'], 4, (_, i) => gates[i].promise);
    for (const i of [3, 1, 0, 2]) gates[i].resolve(`r${i}`);
    expect(await running).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it.each([
    [1, 5, 1],
    [2, 5, 2],
    [3, 7, 3],
    [10, 4, 4],
    [0, 3, 1], // a limit below 1 still makes progress
    [-5, 3, 1],
  ])('with limit %i over %i items runs at most %i at once', async (limit, count, most) => {
    const gates = Array.from({ length: count }, () => deferred<number>());
    let inFlight = 0;
    let peak = 0;
    const started: number[] = [];
    const running = mapLimited(gates, limit, async (gate, i) => {
      started.push(i);
      peak = Math.max(peak, ++inFlight);
      const value = await gate.promise;
      inFlight--;
      return value;
    });
    // Finish them one at a time, checking nobody started beyond the limit meanwhile.
    for (let i = 0; i < count; i++) {
      await settle();
      expect(inFlight).toBeLessThanOrEqual(most);
      gates[i].resolve(i * 10);
    }
    expect(await running).toEqual(gates.map((_, i) => i * 10));
    expect(peak).toBe(most);
    expect(started).toEqual(gates.map((_, i) => i));
  });

  it('returns nothing for no items without calling fn', async () => {
    const calls: unknown[] = [];
    expect(await mapLimited([], 4, (x) => Promise.resolve(calls.push(x)))).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('passes each item with its index, once', async () => {
    const seen: [string, number][] = [];
    await mapLimited(['x', 'y', 'z'], 2, (item, i) => {
      seen.push([item, i]);
      return Promise.resolve();
    });
    expect(seen.sort()).toEqual([
      ['x', 0],
      ['y', 1],
      ['z', 2],
    ]);
  });

  it('rejects with the first failure', async () => {
    const boom = new Error('boom');
    await expect(
      mapLimited([1, 2, 3], 2, (n) => (n === 2 ? Promise.reject(boom) : Promise.resolve(n))),
    ).rejects.toBe(boom);
  });
});

describe('announceBatch', () => {
  type S = typeof SUBJECTS.alertRaised;

  const item = (n: number): BatchItem<S> => {
    const alertId = `alert-${n}`;
    return {
      event: buildEvent(
        SUBJECTS.alertRaised,
        {
          alertId,
          rule: 'update-rejected',
          severity: 'warning',
          summary: `alert ${n}`,
          details: {},
          raisedAt: '2026-03-01T10:00:00.000Z',
        },
        { id: `raised-${n}`, source: '/services/alerting' },
      ),
      subject: `${SUBJECTS.alertRaised}.${alertId}`,
      entityId: alertId,
      deliveryCount: 1,
      finalAttempt: false,
    };
  };

  const resolved = (id: string): OutgoingEvent =>
    decision(SUBJECTS.alertResolved, id, {
      alertId: id,
      rule: 'update-rejected',
      reason: 'superseded',
      resolvedAt: '2026-03-01T10:00:00.000Z',
    });

  /** An outbox that announces each event with the state the test chose for its entity. */
  function fakeOutbox(states: Record<string, Announcement['state']>) {
    const calls: string[][] = [];
    const outbox = {
      announce: (events: readonly OutgoingEvent[]): Promise<Announcement[]> => {
        calls.push(events.map((e) => e.entityId));
        return Promise.resolve(
          events.map((e): Announcement => {
            const state = states[e.entityId] ?? 'published';
            const error = new Error(`${e.entityId} went nowhere`);
            return state === 'published' ? { state, duplicate: false } : { state, error };
          }),
        );
      },
    };
    return { outbox: outbox as unknown as Outbox, calls };
  }

  it('announces every event of the batch in one call, in order, and acks every item', async () => {
    const items = [item(1), item(2), item(3)];
    const batch = new EventBatch(SUBJECTS.alertRaised, items);
    const { outbox, calls } = fakeOutbox({ b: 'deferred' });
    await announceBatch(batch, outbox, [
      { item: items[0], events: [resolved('a')] },
      { item: items[1], events: [resolved('b'), resolved('c')] },
      { item: items[2], events: [] },
    ]);
    expect(calls).toEqual([['a', 'b', 'c']]);
    // Deferred is as good as published: the outbox will get it onto the stream.
    expect(items.map((i) => batch.verdictOf(i))).toEqual([
      { outcome: 'ack' },
      { outcome: 'ack' },
      { outcome: 'ack' },
    ]);
  });

  it('retries only the items with an event that could go nowhere, with its error', async () => {
    const items = [item(1), item(2), item(3), item(4)];
    const batch = new EventBatch(SUBJECTS.alertRaised, items);
    const { outbox } = fakeOutbox({ b: 'failed', d: 'deferred', e: 'failed', f: 'failed' });
    await announceBatch(batch, outbox, [
      { item: items[0], events: [resolved('a')] },
      // One event on the stream and one lost: the item must run again (its re-announcement of
      // `c` is a duplicate the stream drops).
      { item: items[1], events: [resolved('b'), resolved('c')] },
      { item: items[2], events: [resolved('d')] },
      { item: items[3], events: [resolved('e'), resolved('f')] },
    ]);
    expect(items.map((i) => batch.verdictOf(i).outcome)).toEqual(['ack', 'retry', 'ack', 'retry']);
    expect(batch.verdictOf(items[1])).toMatchObject({ error: { message: 'b went nowhere' } });
  });

  it('leaves the verdicts the handler gave items without events', async () => {
    const items = [item(1), item(2), item(3)];
    const batch = new EventBatch(SUBJECTS.alertRaised, items);
    const poison = new Error('poison');
    const later = new Error('later');
    batch.deadLetter(items[0], poison);
    batch.retry(items[1], later);
    const { outbox } = fakeOutbox({ c: 'failed' });
    await announceBatch(batch, outbox, [{ item: items[2], events: [resolved('c')] }]);
    expect(batch.verdictOf(items[0])).toEqual({ outcome: 'dead-letter', error: poison });
    expect(batch.verdictOf(items[1])).toEqual({ outcome: 'retry', error: later });
    expect(batch.verdictOf(items[2]).outcome).toBe('retry');
  });
});

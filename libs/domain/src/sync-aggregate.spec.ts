import {
  countOf,
  entryDone,
  expireSync,
  isTerminal,
  markAnnounced,
  newSync,
  recordEntries,
  startSync,
  stopSync,
  syncStatus,
  unannouncedOutcome,
  type EntryOutcome,
  type EntryResult,
  type SyncAggregate,
} from './sync-aggregate';

const REQUESTED_AT = new Date('2026-03-01T10:00:00.000Z');
const STARTED_AT = new Date('2026-03-01T10:00:05.000Z');
const LATER = new Date('2026-03-01T10:01:00.000Z');
const DEADLINE_MS = 60 * 60_000;
const INDEX = { feed: 'acme', sequence: 7 };

const requested = (): SyncAggregate =>
  newSync('sync_1', 'https://feeds.example/acme/', REQUESTED_AT, DEADLINE_MS);

/** A running sync of `total` entries; the tests below rely on startSync returning it. */
function running(total: number): SyncAggregate {
  const sync = startSync(requested(), { ...INDEX, total }, STARTED_AT);
  if (!sync) throw new Error('startSync refused a requested sync');
  return sync;
}

/** Applies `recordEntries` and fails the test when it reports "no change". */
function record(sync: SyncAggregate, outcomes: EntryOutcome[], at = LATER): SyncAggregate {
  const next = recordEntries(sync, outcomes, at);
  if (!next) throw new Error(`recordEntries changed nothing for ${JSON.stringify(outcomes)}`);
  return next;
}

const outcome = (index: number, result: EntryResult): EntryOutcome => ({ index, result });

describe('newSync', () => {
  it('is requested, with no entries yet and its deadline counted from the request', () => {
    expect(requested()).toEqual({
      id: 'sync_1',
      url: 'https://feeds.example/acme/',
      state: 'requested',
      results: '',
      failures: [],
      requestedAt: '2026-03-01T10:00:00.000Z',
      deadline: '2026-03-01T11:00:00.000Z',
    });
  });
});

describe('unannouncedOutcome and markAnnounced', () => {
  it('gives nothing to announce while a sync runs', () => {
    const sync = running(2);
    expect(unannouncedOutcome(sync)).toBeUndefined();
    expect(markAnnounced(sync)).toBeUndefined();
  });

  it('announces a finished sync once, with its counts, then nothing after the mark', () => {
    const sync = record(running(3), [
      outcome(0, 'imported'),
      outcome(1, 'rejected'),
      outcome(2, 'failed'),
    ]);
    expect(unannouncedOutcome(sync)).toEqual({
      syncId: 'sync_1',
      url: 'https://feeds.example/acme/',
      state: 'failed',
      reason: '1 of 3 entries could not be imported',
      scheduled: false,
      feed: 'acme',
      requestedAt: '2026-03-01T10:00:00.000Z',
      finishedAt: '2026-03-01T10:01:00.000Z',
      entries: { total: 3, imported: 1, unchanged: 0, rejected: 1, failed: 1 },
    });
    const marked = markAnnounced(sync);
    expect(marked?.announced).toBe(true);
    expect(unannouncedOutcome(marked!)).toBeUndefined();
    expect(markAnnounced(marked!)).toBeUndefined();
  });

  it('says a scheduled sync refused before it started was scheduled, with no entries', () => {
    const scheduled = newSync(
      'sync_2',
      'https://feeds.example/acme/',
      REQUESTED_AT,
      DEADLINE_MS,
      true,
    );
    const refused = stopSync(scheduled, 'refused', 'index signature invalid', LATER)!;
    expect(unannouncedOutcome(refused)).toMatchObject({
      state: 'refused',
      scheduled: true,
      entries: { total: 0, imported: 0, unchanged: 0, rejected: 0, failed: 0 },
    });
  });
});

describe('startSync', () => {
  it('runs a sync with entries, all of them pending', () => {
    const sync = running(3);
    expect(sync).toMatchObject({
      state: 'running',
      feed: 'acme',
      sequence: 7,
      total: 3,
      startedAt: STARTED_AT.toISOString(),
    });
    expect(countOf(sync, 'pending')).toBe(3);
    expect(sync.finishedAt).toBeUndefined();
  });

  it('completes a sync whose index has no entries at once: nothing would ever finish it', () => {
    const sync = startSync(requested(), { ...INDEX, total: 0 }, STARTED_AT);
    expect(sync).toMatchObject({
      state: 'completed',
      total: 0,
      results: '',
      startedAt: STARTED_AT.toISOString(),
      finishedAt: STARTED_AT.toISOString(),
    });
  });

  it('starts a sync only once: a redelivered index changes nothing', () => {
    expect(startSync(running(2), { ...INDEX, total: 5 }, LATER)).toBeUndefined();
  });
});

describe('recordEntries', () => {
  it('marks each entry by its result and keeps the sync running while any is pending', () => {
    const sync = record(running(4), [outcome(0, 'imported'), outcome(2, 'rejected')]);
    expect(sync.state).toBe('running');
    expect(countOf(sync, 'imported')).toBe(1);
    expect(countOf(sync, 'rejected')).toBe(1);
    expect(countOf(sync, 'pending')).toBe(2);
    expect([0, 1, 2, 3].map((i) => entryDone(sync, i))).toEqual([true, false, true, false]);
    expect(sync.finishedAt).toBeUndefined();
  });

  it('changes nothing for an entry recorded before, whatever result it is given now', () => {
    const once = record(running(2), [outcome(0, 'imported')]);
    expect(recordEntries(once, [outcome(0, 'imported')], LATER)).toBeUndefined();
    expect(recordEntries(once, [outcome(0, 'failed')], LATER)).toBeUndefined();
  });

  it('keeps the first of two outcomes for one entry in the same call', () => {
    const sync = record(running(2), [outcome(1, 'unchanged'), outcome(1, 'failed')]);
    expect(countOf(sync, 'unchanged')).toBe(1);
    expect(countOf(sync, 'failed')).toBe(0);
    expect(sync.failures).toEqual([]);
  });

  it.each([
    ['negative', -1],
    ['equal to the total', 3],
    ['past the total', 99],
  ])('ignores an index %s', (_, index) => {
    const sync = running(3);
    expect(recordEntries(sync, [outcome(index, 'imported')], LATER)).toBeUndefined();
    const mixed = record(sync, [outcome(index, 'imported'), outcome(1, 'imported')]);
    expect(mixed.results).toBe('.i.');
  });

  it.each<[string, EntryResult[], 'completed' | 'failed']>([
    ['all imported', ['imported', 'imported'], 'completed'],
    ['imported, unchanged and rejected', ['imported', 'unchanged', 'rejected'], 'completed'],
    ['all rejected (a verdict, not a failure)', ['rejected'], 'completed'],
    ['one failed among others', ['imported', 'failed', 'unchanged'], 'failed'],
    ['all failed', ['failed', 'failed'], 'failed'],
  ])('ends the sync with the last entry: %s → %s', (_, results, state) => {
    const start = running(results.length);
    const allButLast = results.slice(0, -1).map((r, i) => outcome(i, r));
    const before = allButLast.length ? record(start, allButLast) : start;
    expect(before.state).toBe('running');
    const after = record(before, [outcome(results.length - 1, results[results.length - 1])]);
    expect(after.state).toBe(state);
    expect(after.finishedAt).toBe(LATER.toISOString());
  });

  it('names how many entries failed when it fails the sync', () => {
    const sync = record(running(5), [
      { index: 0, result: 'failed', code: 'timeout', reason: 'the feed did not answer' },
      outcome(1, 'imported'),
      { index: 2, result: 'failed', code: 'artifact-missing', reason: '404' },
      outcome(3, 'unchanged'),
      outcome(4, 'rejected'),
    ]);
    expect(sync.state).toBe('failed');
    expect(sync.reason).toBe('2 of 5 entries could not be imported');
    expect(sync.failures).toEqual([
      { index: 0, code: 'timeout', reason: 'the feed did not answer' },
      { index: 2, code: 'artifact-missing', reason: '404' },
    ]);
  });

  it("lists a failure without code or reason as 'failed'", () => {
    const sync = record(running(2), [outcome(1, 'failed')]);
    expect(sync.failures).toEqual([{ index: 1, code: 'failed', reason: 'failed' }]);
  });

  it('lists at most 100 failures but counts every one', () => {
    const total = 250;
    const all = Array.from({ length: total }, (_, i) => outcome(i, 'failed'));
    // In two calls, so the cap holds across calls as well as within one.
    const sync = record(record(running(total), all.slice(0, 60)), all.slice(60));
    expect(sync.failures).toHaveLength(100);
    expect(sync.failures.map((f) => f.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(countOf(sync, 'failed')).toBe(total);
    expect(sync.reason).toBe(`${total} of ${total} entries could not be imported`);
  });

  it('leaves the aggregate it was given untouched', () => {
    const sync = running(2);
    const copy = structuredClone(sync);
    record(sync, [{ index: 0, result: 'failed', code: 'x', reason: 'y' }, outcome(1, 'imported')]);
    expect(sync).toEqual(copy);
  });
});

describe('terminal syncs never change', () => {
  const terminal: [string, SyncAggregate][] = [
    ['completed', record(running(1), [outcome(0, 'imported')])],
    ['completed with no entries', startSync(requested(), { ...INDEX, total: 0 }, STARTED_AT)!],
    ['failed by its entries', record(running(1), [outcome(0, 'failed')])],
    ['refused', stopSync(running(3), 'refused', 'index signature invalid', LATER)!],
    ['failed by stopSync', stopSync(requested(), 'failed', 'feed unreachable', LATER)!],
    ['expired', expireSync(running(3), new Date('2026-03-02T00:00:00.000Z'))!],
  ];

  it.each(terminal)('%s', (_, sync) => {
    expect(isTerminal(sync)).toBe(true);
    const far = new Date('2030-01-01T00:00:00.000Z');
    expect(startSync(sync, { ...INDEX, total: 2 }, far)).toBeUndefined();
    expect(stopSync(sync, 'failed', 'again', far)).toBeUndefined();
    expect(stopSync(sync, 'refused', 'again', far)).toBeUndefined();
    expect(recordEntries(sync, [outcome(0, 'imported')], far)).toBeUndefined();
    expect(expireSync(sync, far)).toBeUndefined();
  });
});

describe('stopSync', () => {
  it.each([
    ['requested', requested()],
    ['running', running(2)],
  ])('ends a %s sync with the state and reason given', (_, sync) => {
    expect(stopSync(sync, 'refused', 'rollback: sequence 6 after 7', LATER)).toMatchObject({
      state: 'refused',
      reason: 'rollback: sequence 6 after 7',
      finishedAt: LATER.toISOString(),
    });
  });
});

describe('expireSync', () => {
  const deadline = new Date(REQUESTED_AT.getTime() + DEADLINE_MS);
  const justAfter = new Date(deadline.getTime() + 1);

  it.each([
    ['before the deadline', new Date(deadline.getTime() - 1)],
    ['at the deadline itself', deadline],
  ])('leaves an unfinished sync alone %s', (_, now) => {
    expect(expireSync(requested(), now)).toBeUndefined();
    expect(expireSync(running(2), now)).toBeUndefined();
  });

  it('fails a sync that never started, saying so', () => {
    expect(expireSync(requested(), justAfter)).toMatchObject({
      state: 'failed',
      reason: 'the sync did not start before its deadline',
      finishedAt: justAfter.toISOString(),
    });
  });

  it('fails a running sync, naming how many entries never finished', () => {
    const sync = record(running(5), [outcome(0, 'imported'), outcome(3, 'failed')]);
    expect(expireSync(sync, justAfter)).toMatchObject({
      state: 'failed',
      reason: 'deadline passed with 3 of 5 entries unfinished',
      finishedAt: justAfter.toISOString(),
    });
  });
});

describe('entryDone', () => {
  it.each([
    ['pending', 0, false],
    ['recorded', 1, true],
    ['negative', -1, false],
    ['out of range', 2, false],
  ])('is %s for a %s index', (_, index, done) => {
    expect(entryDone(record(running(2), [outcome(1, 'rejected')]), index)).toBe(done);
  });

  it('is false on a sync that has not started', () => {
    expect(entryDone(requested(), 0)).toBe(false);
  });
});

describe('syncStatus', () => {
  it('reports a requested sync with no counts pending and none of the optional fields', () => {
    expect(syncStatus(requested())).toEqual({
      id: 'sync_1',
      url: 'https://feeds.example/acme/',
      state: 'requested',
      imported: 0,
      unchanged: 0,
      rejected: 0,
      failed: 0,
      pending: 0,
      requestedAt: REQUESTED_AT.toISOString(),
      deadline: '2026-03-01T11:00:00.000Z',
    });
  });

  it('reports a running sync with its counts, index and start, but no failures yet', () => {
    const sync = record(running(5), [
      outcome(0, 'imported'),
      outcome(1, 'unchanged'),
      outcome(2, 'rejected'),
    ]);
    expect(syncStatus(sync)).toEqual({
      id: 'sync_1',
      url: 'https://feeds.example/acme/',
      state: 'running',
      feed: 'acme',
      sequence: 7,
      imported: 1,
      unchanged: 1,
      rejected: 1,
      failed: 0,
      pending: 2,
      total: 5,
      requestedAt: REQUESTED_AT.toISOString(),
      startedAt: STARTED_AT.toISOString(),
      deadline: '2026-03-01T11:00:00.000Z',
    });
  });

  it('reports a failed sync with its reason, failures and finish', () => {
    const sync = record(running(2), [
      outcome(0, 'imported'),
      { index: 1, result: 'failed', code: 'timeout', reason: 'slow' },
    ]);
    expect(syncStatus(sync)).toMatchObject({
      state: 'failed',
      reason: '1 of 2 entries could not be imported',
      imported: 1,
      failed: 1,
      pending: 0,
      total: 2,
      failures: [{ index: 1, code: 'timeout', reason: 'slow' }],
      finishedAt: LATER.toISOString(),
    });
  });

  it('reports sequence 0, which is a real sequence and not "missing"', () => {
    const sync = startSync(requested(), { feed: 'acme', sequence: 0, total: 1 }, STARTED_AT)!;
    expect(syncStatus(sync)).toMatchObject({ sequence: 0, total: 1, pending: 1 });
  });

  it('reports a sync refused before it started without index or counts', () => {
    const status = syncStatus(stopSync(requested(), 'refused', 'untrusted signer', LATER)!);
    expect(status).toMatchObject({ state: 'refused', reason: 'untrusted signer', pending: 0 });
    expect(status).not.toHaveProperty('feed');
    expect(status).not.toHaveProperty('total');
    expect(status).not.toHaveProperty('startedAt');
    expect(status).not.toHaveProperty('failures');
  });
});

/**
 * Entries are redelivered, raced by replicas and folded in batches of any size, so whatever the
 * order and however often an outcome arrives, the sync must end with one result per entry: the
 * first one recorded for it.
 */
describe('recordEntries in any order, with duplicates', () => {
  const RESULTS: EntryResult[] = ['imported', 'unchanged', 'rejected', 'failed'];

  /** mulberry32: a tiny seeded generator, so a failing run can be replayed from its seed. */
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /** One random schedule; throws (naming nothing: the caller adds the seed) when it breaks. */
  function check(seed: number): void {
    const rand = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const total = 1 + Math.floor(rand() * 40);
    const truth = Array.from({ length: total }, () => pick(RESULTS));

    // Every entry once, plus redeliveries (same outcome) and late conflicting ones, plus noise
    // out of range; shuffled, then cut into batches of random sizes.
    const deliveries: EntryOutcome[] = truth.map((r, i) => outcome(i, r));
    const extras = Math.floor(rand() * total * 2);
    for (let k = 0; k < extras; k++) {
      const i = Math.floor(rand() * (total + 4)) - 2;
      deliveries.push(outcome(i, i >= 0 && i < total && rand() < 0.5 ? truth[i] : pick(RESULTS)));
    }
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
    }

    let sync = running(total);
    const first = new Map<number, EntryResult>();
    while (deliveries.length) {
      const batch = deliveries.splice(0, 1 + Math.floor(rand() * 6));
      for (const d of batch) {
        if (d.index >= 0 && d.index < total && !first.has(d.index)) first.set(d.index, d.result);
      }
      const wasTerminal = isTerminal(sync);
      const next = recordEntries(sync, batch, LATER);
      if (wasTerminal) expect(next).toBeUndefined();
      sync = next ?? sync;
    }

    expect(first.size).toBe(total);
    for (const r of RESULTS) {
      expect(countOf(sync, r)).toBe([...first.values()].filter((x) => x === r).length);
    }
    expect(countOf(sync, 'pending')).toBe(0);
    const failed = countOf(sync, 'failed');
    expect(sync.state).toBe(failed ? 'failed' : 'completed');
    expect(sync.failures.map((f) => f.index).sort((a, b) => a - b)).toEqual(
      [...first]
        .filter(([, r]) => r === 'failed')
        .map(([i]) => i)
        .sort((a, b) => a - b),
    );
    const status = syncStatus(sync);
    expect(status.imported + status.unchanged + status.rejected + status.failed).toBe(total);
  }

  it('ends with the counts of the distinct outcomes over 500 seeded random schedules', () => {
    for (let seed = 1; seed <= 500; seed++) {
      try {
        check(seed);
      } catch (error) {
        throw new Error(`seed ${seed}: ${(error as Error).message}`);
      }
    }
  });
});

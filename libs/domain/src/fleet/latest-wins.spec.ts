import {
  claimed,
  marked,
  writeLatest,
  WriteThroughError,
  type KeyedReadModel,
  type RankedValue,
  type SkipRule,
  type Stored,
  type WinnerStore,
} from './latest-wins';

/** `by` is the material content; the rank starts with the seen time. */
interface Doc extends RankedValue {
  by: string;
}
const doc = (rank: string, by = rank): Doc => ({ rank, by });
const seenAt = (d: Doc): number => Date.parse(d.rank.split('#')[0] ?? '');
const RESOLUTION_MS = 60_000;
const skipRule: SkipRule<Doc> = {
  sameMaterial: (a, b) => a.by === b.by,
  seenAt,
  resolutionMs: RESOLUTION_MS,
};
const same = (a: Doc | undefined, b: Doc): boolean => a?.rank === b.rank && a.by === b.by;

/**
 * Runs writers one store or read-model operation at a time, in an order given by `choices`: at
 * each point where several writers wait, `choices[i]` (default 0) says which goes on. Each
 * operation is atomic, as one KV request or one document write is.
 */
class Interleaving {
  private readonly waiting: { who: string; go: () => void }[] = [];
  /** How many writers were waiting at each decision: the branching of this run. */
  readonly branching: number[] = [];
  readonly trace: string[] = [];

  constructor(private readonly choices: readonly number[]) {}

  step(who: string, what: string): Promise<void> {
    return new Promise((go) =>
      this.waiting.push({ who, go: () => (this.trace.push(`${who} ${what}`), go()) }),
    );
  }

  async run(writers: readonly Promise<unknown>[]): Promise<void> {
    const settled = Promise.allSettled(writers);
    for (;;) {
      // Every microtask the last step started runs before this macrotask: writers are parked again.
      await new Promise((r) => setImmediate(r));
      if (this.waiting.length === 0) break;
      const pick = this.choices[this.branching.length] ?? 0;
      this.branching.push(this.waiting.length);
      this.waiting.splice(pick, 1)[0]?.go();
    }
    await settled;
    await Promise.all(writers);
  }
}

/** A KV bucket's semantics: a revision per key, compare-and-set on it. */
class MemoryKv {
  readonly data = new Map<string, Stored<Doc>>();
  private sequence = 0;

  /** `rule` is the claim rule (skipping or not); `claimed` without a skip rule by default. */
  constructor(private readonly rule: typeof claimed<Doc> = (c, s) => claimed(c, s)) {}

  seed(key: string, value: Doc): void {
    this.data.set(key, { value, revision: ++this.sequence });
  }

  storeOf(who: string, run: Interleaving): WinnerStore<Doc> {
    return {
      get: async (key) => {
        await run.step(who, `get ${key}`);
        return this.data.get(key);
      },
      claim: async (key, candidate) => {
        for (;;) {
          await run.step(who, `read ${key}`);
          const current = this.data.get(key);
          const next = this.rule(candidate, current);
          if (!next) return current as Stored<Doc>;
          await run.step(who, `cas ${key} ${candidate.rank}`);
          if (this.data.get(key)?.revision !== current?.revision) continue;
          const stored = { value: next, revision: ++this.sequence };
          this.data.set(key, stored);
          return stored;
        }
      },
      mark: async (key, written) => {
        for (;;) {
          await run.step(who, `read ${key}`);
          const current = this.data.get(key);
          const next = marked(written, current, seenAt);
          if (!next) return;
          await run.step(who, `mark ${key} ${next.rank}`);
          if (this.data.get(key)?.revision !== current?.revision) continue;
          this.data.set(key, { value: next, revision: ++this.sequence });
          return;
        }
      },
    };
  }
}

class MemoryReadModel {
  readonly docs = new Map<string, Doc>();
  writes = 0;

  modelOf(who: string, run: Interleaving): KeyedReadModel<Doc> {
    return {
      replaceAll: async (entries) => {
        // A bulk write: each document replaced on its own, other writers may come in between.
        for (const { key, value } of entries) {
          await run.step(who, `replace ${key} ${value.rank}`);
          this.docs.set(key, value);
          this.writes++;
        }
        return new Set<string>();
      },
    };
  }
}

type Batch = { key: string; value: Doc }[];
interface Scenario {
  seed?: Batch;
  /** Each writer's batch (a replica's batch of reports, latest per computer). */
  writers: Batch[];
  /** Writers that stopped after their claims (a crash before the write-through), before the others ran. */
  crashed?: Batch[];
  /** The read model's documents when they differ from the seed (a claim not yet written through). */
  modelSeed?: Batch;
  /** The store's claim rule: without a skip rule by default. */
  rule?: typeof claimed<Doc>;
}

/** The naive write: claim, then replace, no re-check. Used to show the exploration finds its flaw. */
async function claimThenWrite(
  store: WinnerStore<Doc>,
  model: KeyedReadModel<Doc>,
  batch: readonly { key: string; value: Doc }[],
): Promise<number> {
  const stored = await Promise.all(batch.map((c) => store.claim(c.key, c.value)));
  await model.replaceAll(batch.map((c, i) => ({ key: c.key, value: stored[i].value })));
  return batch.length;
}

type Writer = typeof writeLatest<Doc>;

async function runOnce(scenario: Scenario, choices: readonly number[], write: Writer) {
  const run = new Interleaving(choices);
  const kv = new MemoryKv(scenario.rule);
  const model = new MemoryReadModel();
  for (const { key, value } of scenario.seed ?? []) {
    kv.seed(key, value);
    model.docs.set(key, value);
  }
  for (const { key, value } of scenario.modelSeed ?? []) model.docs.set(key, value);
  // A crash happens before the writers run: they are the messages processed after it (its own
  // redelivery, or the report that replaced it on the stream).
  for (const [i, batch] of (scenario.crashed ?? []).entries()) {
    const crashRun = new Interleaving([]);
    const store = kv.storeOf(`crashed${i}`, crashRun);
    await crashRun.run([Promise.all(batch.map((c) => store.claim(c.key, c.value)))]);
  }
  const writers = scenario.writers.map((batch, i) =>
    write(kv.storeOf(`w${i}`, run), model.modelOf(`w${i}`, run), batch),
  );
  await run.run(writers);
  return { kv, model, run };
}

/** Every interleaving (depth-first over the choices), with what each run left behind. */
async function explore(scenario: Scenario, write: Writer = writeLatest) {
  const outcomes: {
    docs: Map<string, Doc>;
    kv: Map<string, Stored<Doc>>;
    trace: string[];
    writes: number;
  }[] = [];
  let choices: number[] = [];
  for (;;) {
    const { kv, model, run } = await runOnce(scenario, choices, write);
    outcomes.push({ docs: model.docs, kv: kv.data, trace: run.trace, writes: model.writes });
    // Next choice sequence: the last decision that has an untried branch, bumped.
    const taken = run.branching.map((_, i) => choices[i] ?? 0);
    let i = taken.length - 1;
    while (i >= 0 && taken[i] + 1 >= run.branching[i]) i--;
    if (i < 0) return outcomes;
    choices = [...taken.slice(0, i), taken[i] + 1];
  }
}

/** The highest-ranked value offered per key (seed, writers and crashed claims). */
function highest(scenario: Scenario): Map<string, Doc> {
  const best = new Map<string, Doc>();
  const all = [
    ...(scenario.seed ?? []),
    ...scenario.writers.flat(),
    ...(scenario.crashed ?? []).flat(),
  ];
  for (const { key, value } of all) {
    const current = best.get(key);
    if (!current || value.rank > current.rank) best.set(key, value);
  }
  return best;
}

const T0 = '2026-11-29T10:00:00.000Z#0';
const T1 = '2026-11-29T11:00:00.000Z#1';
const T2 = '2026-11-29T12:00:00.000Z#2';

describe('latest-wins write-through: every interleaving of two replicas', () => {
  const explored: number[] = [];
  afterAll(() => process.stdout.write(`interleavings explored: ${explored.join(', ')}\n`));
  const scenarios: [string, Scenario][] = [
    [
      'a known computer, an older and a newer report on two replicas',
      {
        seed: [{ key: 'pc', value: doc(T0) }],
        writers: [[{ key: 'pc', value: doc(T1) }], [{ key: 'pc', value: doc(T2) }]],
      },
    ],
    [
      'a new computer, an older and a newer report on two replicas',
      { writers: [[{ key: 'pc', value: doc(T1) }], [{ key: 'pc', value: doc(T2) }]] },
    ],
    [
      'the same report delivered to both replicas',
      {
        seed: [{ key: 'pc', value: doc(T0) }],
        writers: [[{ key: 'pc', value: doc(T2, 'a') }], [{ key: 'pc', value: doc(T2, 'a') }]],
      },
    ],
    [
      'the newest claim crashed before its write; an older report of that computer comes next',
      {
        seed: [{ key: 'pc', value: doc(T0) }],
        crashed: [[{ key: 'pc', value: doc(T2) }]],
        writers: [[{ key: 'pc', value: doc(T1) }]],
      },
    ],
    [
      'the newest claim crashed; its redelivery and an older report run on two replicas',
      {
        seed: [{ key: 'pc', value: doc(T0) }],
        crashed: [[{ key: 'pc', value: doc(T2) }]],
        writers: [[{ key: 'pc', value: doc(T2) }], [{ key: 'pc', value: doc(T1) }]],
      },
    ],
  ];

  it.each(scenarios)('%s: the read model ends with the newest report', async (_, scenario) => {
    const want = highest(scenario);
    const outcomes = await explore(scenario);
    explored.push(outcomes.length);
    expect(outcomes.length).toBeGreaterThan(0);
    // Compared cheaply per run; the first wrong one is shown with its trace.
    const wrong = outcomes.find(({ docs, kv }) =>
      [...want].some(
        ([key, value]) => !same(docs.get(key), value) || !same(kv.get(key)?.value, value),
      ),
    );
    expect(wrong && { docs: [...wrong.docs], trace: wrong.trace }).toBeUndefined();
  });

  it('repairs the overtaken write: some interleavings need a second replace', async () => {
    const [, scenario] = scenarios[0];
    const outcomes = await explore(scenario);
    expect(outcomes.some((o) => o.writes > 2)).toBe(true);
  });

  it('without the re-check an older replace can land last (the exploration finds it)', async () => {
    const [, scenario] = scenarios[0];
    const outcomes = await explore(scenario, claimThenWrite);
    const stale = outcomes.filter((o) => o.docs.get('pc')?.rank !== T2);
    expect(stale.length).toBeGreaterThan(0);
    expect(stale[0]?.trace).toEqual(
      expect.arrayContaining(['w0 replace pc ' + T1, 'w1 replace pc ' + T2]),
    );
  });
});

// Seen times a few seconds apart (within the resolution), and one well after it.
const S0 = '2026-11-29T10:00:00.000Z#0';
const S1 = '2026-11-29T10:00:10.000Z#1';
const S2 = '2026-11-29T10:00:20.000Z#2';
const LATER = '2026-11-29T10:05:00.000Z#3';
/** A value the read model holds, confirmed and marked. */
const writtenDoc = (rank: string, by: string): Doc => ({
  rank,
  by,
  written: true,
  writtenSeenAt: seenAt(doc(rank)),
});
const skipping: typeof claimed<Doc> = (c, s) => claimed(c, s, skipRule);

describe('latest-wins write-through: skipping unchanged reports, every interleaving', () => {
  const scenarios: [string, Scenario][] = [
    [
      'a claim crashed before its write: the next report, materially equal to it, writes through',
      {
        rule: skipping,
        seed: [{ key: 'pc', value: { ...doc(S1, 'new'), written: false } }],
        modelSeed: [{ key: 'pc', value: doc(S0, 'old') }],
        writers: [[{ key: 'pc', value: doc(S2, 'new') }]],
      },
    ],
    [
      'a writer crashed after its write, before its mark: the next report writes through',
      {
        rule: skipping,
        seed: [{ key: 'pc', value: { ...doc(S0, 'same'), written: false } }],
        writers: [[{ key: 'pc', value: doc(S1, 'same') }]],
      },
    ],
    [
      'a material change and an unchanged report on two replicas (the change is older)',
      {
        rule: skipping,
        seed: [{ key: 'pc', value: writtenDoc(S0, 'a') }],
        writers: [[{ key: 'pc', value: doc(S1, 'b') }], [{ key: 'pc', value: doc(S2, 'a') }]],
      },
    ],
    [
      'a material change and an unchanged report on two replicas (the change is newer)',
      {
        rule: skipping,
        seed: [{ key: 'pc', value: writtenDoc(S0, 'a') }],
        writers: [[{ key: 'pc', value: doc(S2, 'b') }], [{ key: 'pc', value: doc(S1, 'a') }]],
      },
    ],
    [
      'a claim not yet written through, redelivered to both replicas',
      {
        rule: skipping,
        seed: [{ key: 'pc', value: { ...doc(S1, 'new'), written: false } }],
        modelSeed: [{ key: 'pc', value: doc(S0, 'old') }],
        writers: [[{ key: 'pc', value: doc(S1, 'new') }], [{ key: 'pc', value: doc(S1, 'new') }]],
      },
    ],
  ];

  /** The first run whose read model lacks the newest content, or lags it by the resolution. */
  const wrongRun = async (scenario: Scenario) => {
    const want = highest(scenario);
    const outcomes = await explore(scenario);
    const wrong = outcomes.find(({ docs, kv }) =>
      [...want].some(([key, value]) => {
        const got = docs.get(key);
        return (
          got?.by !== value.by ||
          seenAt(value) - seenAt(got) >= RESOLUTION_MS ||
          kv.get(key)?.value.rank !== value.rank
        );
      }),
    );
    return { outcomes, wrong: wrong && { docs: [...wrong.docs], trace: wrong.trace } };
  };

  it.each(scenarios)('%s: the read model ends with the newest content', async (_, scenario) => {
    const { outcomes, wrong } = await wrongRun(scenario);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(wrong).toBeUndefined();
  });

  it('control: a skip that ignores `written` leaves the crashed claim unwritten', async () => {
    const ignoresWritten: typeof claimed<Doc> = (c, s) =>
      claimed(
        c,
        s && { ...s, value: { ...s.value, written: true, writtenSeenAt: seenAt(s.value) } },
        skipRule,
      );
    const [, scenario] = scenarios[0];
    const { wrong } = await wrongRun({ ...scenario, rule: ignoresWritten });
    expect(wrong?.docs).toEqual([['pc', doc(S0, 'old')]]);
  });

  it('a crash before the mark costs one more write, then the key is marked', async () => {
    const [, scenario] = scenarios[1];
    const outcomes = await explore(scenario);
    expect(outcomes.every((o) => o.writes === 1 && o.kv.get('pc')?.value.written)).toBe(true);
  });

  it('an unchanged report within the resolution is not written; one after it is', async () => {
    const seed = [{ key: 'pc', value: writtenDoc(S0, 'a') }];
    const within = await explore({
      rule: skipping,
      seed,
      writers: [[{ key: 'pc', value: doc(S2, 'a') }]],
    });
    expect(within.map((o) => [o.writes, o.kv.get('pc')?.value])).toEqual([
      [0, { ...doc(S2, 'a'), written: true, writtenSeenAt: seenAt(doc(S0)) }],
    ]);
    const after = await explore({
      rule: skipping,
      seed,
      writers: [[{ key: 'pc', value: doc(LATER, 'a') }]],
    });
    expect(after.map((o) => [o.writes, o.docs.get('pc'), o.kv.get('pc')?.value])).toEqual([
      [1, doc(LATER, 'a'), writtenDoc(LATER, 'a')],
    ]);
  });
});

describe('latest-wins write-through: failures', () => {
  const sequential = () => new Interleaving([]);

  it('writes a key again when its replace failed', async () => {
    const run = sequential();
    const kv = new MemoryKv();
    const docs = new Map<string, Doc>();
    let failures = 1;
    const model: KeyedReadModel<Doc> = {
      replaceAll: (entries) => {
        const failed = new Set<string>();
        for (const { key, value } of entries) {
          if (failures-- > 0) failed.add(key);
          else docs.set(key, value);
        }
        return Promise.resolve(failed);
      },
    };
    await run.run([writeLatest(kv.storeOf('w', run), model, [{ key: 'pc', value: doc(T1) }])]);
    expect(docs.get('pc')).toEqual(doc(T1));
  });

  it('gives up after the last round while the key keeps moving', async () => {
    let revision = 0;
    const store: WinnerStore<Doc> = {
      claim: (_, candidate) => Promise.resolve({ value: candidate, revision: ++revision }),
      get: () => Promise.resolve({ value: doc(T2), revision: ++revision }),
      mark: () => Promise.resolve(),
    };
    const model: KeyedReadModel<Doc> = { replaceAll: () => Promise.resolve(new Set()) };
    await expect(writeLatest(store, model, [{ key: 'pc', value: doc(T1) }], 3)).rejects.toThrow(
      WriteThroughError,
    );
  });

  it('a crash between claim and write leaves the older report until the next one of that computer', async () => {
    // The newer report's message was deleted from the stream by the older one (one message per
    // computer), so nothing redelivers it: the next report, of any rank, writes it through.
    const kv = new MemoryKv();
    const model = new MemoryReadModel();
    const once = async (work: (run: Interleaving) => Promise<unknown>) => {
      const run = sequential();
      await run.run([work(run)]);
    };
    const write = (who: string, value: Doc) =>
      once((run) =>
        writeLatest(kv.storeOf(who, run), model.modelOf(who, run), [{ key: 'pc', value }]),
      );
    await write('older', doc(T1));
    await once((run) => kv.storeOf('crashed', run).claim('pc', doc(T2)));
    expect(model.docs.get('pc')).toEqual(doc(T1));
    await write('next', doc(T0));
    expect(model.docs.get('pc')).toEqual(doc(T2));
  });

  it('claims only a higher rank', () => {
    const stored = { value: doc(T1), revision: 4 };
    expect(claimed(doc(T2), stored)).toEqual(doc(T2));
    expect(claimed(doc(T1, 'again'), stored)).toBeUndefined();
    expect(claimed(doc(T0), stored)).toBeUndefined();
    expect(claimed(doc(T0), undefined)).toEqual(doc(T0));
  });
});

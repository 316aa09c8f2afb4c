import {
  cancelRollout,
  createRollout,
  decideWave,
  evaluateRollout,
  pauseRollout,
  resumeRollout,
  RolloutTransitionError,
  unannounced,
  type NewRollout,
  type RolloutRecord,
  type WaveObservation,
} from './rollout';

const AT = '2026-11-29T10:00:00.000Z';
const input = (over: Partial<NewRollout> = {}): NewRollout => ({
  id: 'rol_000000000000000000000001',
  updateId: 'upd_000000000000000000000001',
  version: '20.0.1.100',
  target: { platform: 'linux-x86_64', group: 'g1' },
  groups: ['g1'],
  successThreshold: 80,
  errorThreshold: 20,
  relayPolicy: 'refuse',
  waves: [
    { kind: 'agents', size: 10 },
    { kind: 'agents', size: 30 },
  ],
  agents: 40,
  ...over,
});
const seen = (succeeded = 0, failed = 0, pendingRelays: string[] = []): WaveObservation => ({
  pendingRelays,
  succeeded,
  failed,
});
const step = (r: RolloutRecord, o: WaveObservation) => evaluateRollout(r, o, AT);
const changes = (r: RolloutRecord) => r.history.map((h) => `${h.change}:${h.state}:${h.wave}`);

describe('decideWave', () => {
  it.each([
    [{ size: 10, succeeded: 8, failed: 0 }, 'advance'],
    [{ size: 10, succeeded: 7, failed: 0 }, 'wait'],
    [{ size: 10, succeeded: 7, failed: 2 }, 'halt'],
    [{ size: 10, succeeded: 9, failed: 2 }, 'halt'],
    [{ size: 10, succeeded: 0, failed: 1 }, 'wait'],
    [{ size: 3, succeeded: 3, failed: 0 }, 'advance'],
    [{ size: 0, succeeded: 0, failed: 0 }, 'advance'],
  ] as const)('%j with success 80%% / error 20%% -> %s', (wave, want) => {
    expect(decideWave(wave, 80, 20)).toBe(want);
  });
});

describe('evaluateRollout', () => {
  it('waits for relays, then starts, advances and completes, one revision per change', () => {
    let r = createRollout(input(), 'alice', AT);
    expect(r.revision).toBe(1);
    r = step(r, seen(0, 0, ['relay-b', 'relay-a']))!;
    expect(r.state).toBe('waiting-for-relays');
    expect(r.waitingForRelays).toEqual(['relay-a', 'relay-b']);
    // The same relays again: nothing to write.
    expect(step(r, seen(0, 0, ['relay-a', 'relay-b']))).toBeUndefined();
    r = step(r, seen(0, 0, ['relay-b']))!;
    expect(r.waitingForRelays).toEqual(['relay-b']);
    r = step(r, seen(2, 0))!;
    expect(r.state).toBe('running');
    expect(r.waves[0]).toMatchObject({ succeeded: 2, startedAt: AT });
    r = step(r, seen(8, 1))!;
    expect(r).toMatchObject({ state: 'running', wave: 1 });
    expect(r.waves[0].finishedAt).toBe(AT);
    r = step(r, seen(24, 0))!;
    expect(r.state).toBe('completed');
    expect(changes(r)).toEqual([
      'created:waiting-for-relays:0',
      'relays-pending:waiting-for-relays:0',
      'relays-pending:waiting-for-relays:0',
      'wave-started:running:0',
      'wave-succeeded:running:0',
      'wave-started:running:1',
      'wave-succeeded:running:1',
      'completed:completed:1',
    ]);
    expect(r.history.map((h) => h.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.revision).toBe(8);
    expect(step(r, seen(30, 0))).toBeUndefined();
  });

  it('halts when the failed share of the wave reaches the error threshold', () => {
    let r = step(createRollout(input(), 'alice', AT), seen())!;
    r = step(r, seen(5, 2))!;
    expect(r.state).toBe('halted');
    expect(r.history.at(-1)?.reason).toMatch(/2 of 10 agents of wave 0 failed/);
    expect(step(r, seen(10, 0))).toBeUndefined();
  });

  it('records counts without a change while the wave waits', () => {
    const started = step(createRollout(input(), 'alice', AT), seen())!;
    const counted = step(started, seen(3, 1))!;
    expect(counted.revision).toBe(started.revision);
    expect(counted.waves[0]).toMatchObject({ succeeded: 3, failed: 1 });
    expect(step(counted, seen(3, 1))).toBeUndefined();
  });

  it('runs the relay wave first without waiting for relayed builds, needing every relay', () => {
    const withRelays = input({
      relayPolicy: 'upgrade-relays-first',
      waves: [
        { kind: 'relays', size: 2 },
        { kind: 'agents', size: 10 },
      ],
    });
    let r = step(createRollout(withRelays, 'alice', AT), seen(0, 0, ['relay-a']))!;
    expect(r).toMatchObject({ state: 'running', wave: 0 });
    r = step(r, seen(1, 0, ['relay-a']))!;
    expect(r.wave).toBe(0);
    r = step(r, seen(2, 0, ['relay-a']))!;
    expect(r).toMatchObject({
      state: 'waiting-for-relays',
      wave: 1,
      waitingForRelays: ['relay-a'],
    });
  });

  it('leaves paused and finished rollouts alone', () => {
    const paused = pauseRollout(createRollout(input(), 'alice', AT), 'bob', AT)!;
    expect(step(paused, seen(10, 0))).toBeUndefined();
  });
});

describe('operator transitions', () => {
  const fresh = () => step(createRollout(input(), 'alice', AT), seen())!;

  it('pause and resume return to the state it was in; repeats change nothing', () => {
    const paused = pauseRollout(fresh(), 'bob', AT)!;
    expect(paused.state).toBe('paused');
    expect(pauseRollout(paused, 'bob', AT)).toBeUndefined();
    const resumed = resumeRollout(paused, 'bob', AT)!;
    expect(resumed.state).toBe('running');
    expect(resumed.history.at(-1)).toMatchObject({ change: 'resumed', by: 'bob' });
    expect(resumeRollout(resumed, 'bob', AT)).toBeUndefined();
  });

  it('cancels any unfinished rollout once; a finished one refuses', () => {
    const cancelled = cancelRollout(fresh(), 'bob', AT)!;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelRollout(cancelled, 'bob', AT)).toBeUndefined();
    expect(() => resumeRollout(cancelled, 'bob', AT)).toThrow(RolloutTransitionError);
    expect(() => pauseRollout(cancelled, 'bob', AT)).toThrow(RolloutTransitionError);
  });

  it('lists what is not announced yet', () => {
    const r = fresh();
    expect(unannounced(r).map((h) => h.revision)).toEqual([1, 2]);
    expect(unannounced({ ...r, announced: 2 })).toEqual([]);
  });
});

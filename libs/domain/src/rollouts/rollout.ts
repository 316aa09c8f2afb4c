import type {
  RelayPolicy,
  Rollout,
  RolloutState,
  RolloutTarget,
  ROLLOUT_CHANGES,
} from '@sup/contracts';

type Change = (typeof ROLLOUT_CHANGES)[number];
type Wave = Rollout['waves'][number];
export type RolloutHistoryEntry = Rollout['history'][number];

/**
 * A rollout as stored (KV bucket `rollouts`, changed only by compare-and-set): the API's view plus
 * what the announcer needs. `revision` grows by one per change (each change is one
 * `rollouts.v1.changed.<id>-<revision>`); `announced` is the highest revision known published.
 */
export interface RolloutRecord extends Rollout {
  platform: string;
  announced: number;
  /** The state a paused rollout resumes to. */
  resumeTo?: 'running' | 'waiting-for-relays';
}

/** How many history entries a rollout keeps (waves are at most 21, so only relay flaps are cut). */
export const MAX_ROLLOUT_HISTORY = 200;
export const TERMINAL_ROLLOUT_STATES: readonly RolloutState[] = [
  'halted',
  'cancelled',
  'completed',
];
export const isRolloutFinished = (state: RolloutState): boolean =>
  TERMINAL_ROLLOUT_STATES.includes(state);

export class RolloutTransitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RolloutTransitionError';
  }
}

export interface NewRollout {
  id: string;
  updateId: string;
  version: string;
  target: RolloutTarget;
  groups: string[];
  successThreshold: number;
  errorThreshold: number;
  relayPolicy: RelayPolicy;
  /** Sizes of the waves in order; the relay wave (if any) first. */
  waves: { kind: 'relays' | 'agents'; size: number }[];
  agents: number;
}

function withChange(
  r: RolloutRecord,
  change: Change,
  at: string,
  extra: { by?: string; reason?: string } = {},
): RolloutRecord {
  const revision = r.revision + 1;
  const entry: RolloutHistoryEntry = {
    revision,
    change,
    state: r.state,
    wave: r.wave,
    ...(change === 'relays-pending' ? { waitingForRelays: r.waitingForRelays } : {}),
    ...extra,
    at,
  };
  return {
    ...r,
    revision,
    updatedAt: at,
    history: [...r.history, entry].slice(-MAX_ROLLOUT_HISTORY),
  };
}

export function createRollout(input: NewRollout, by: string, at: string): RolloutRecord {
  const base: RolloutRecord = {
    ...input,
    platform: input.target.platform,
    waves: input.waves.map((w, index) => ({ index, ...w, succeeded: 0, failed: 0 })),
    state: 'waiting-for-relays',
    wave: 0,
    waitingForRelays: [],
    revision: 0,
    announced: 0,
    createdBy: by,
    createdAt: at,
    updatedAt: at,
    history: [],
  };
  return withChange(base, 'created', at, { by });
}

export function pauseRollout(r: RolloutRecord, by: string, at: string): RolloutRecord | undefined {
  if (r.state === 'paused') return undefined;
  if (r.state !== 'running' && r.state !== 'waiting-for-relays')
    throw new RolloutTransitionError(`a ${r.state} rollout cannot be paused`);
  return withChange({ ...r, state: 'paused', resumeTo: r.state }, 'paused', at, { by });
}

export function resumeRollout(r: RolloutRecord, by: string, at: string): RolloutRecord | undefined {
  if (r.state === 'running' || r.state === 'waiting-for-relays') return undefined;
  if (r.state !== 'paused')
    throw new RolloutTransitionError(`a ${r.state} rollout cannot be resumed`);
  const { resumeTo, ...rest } = r;
  return withChange({ ...rest, state: resumeTo ?? 'running' }, 'resumed', at, { by });
}

export function cancelRollout(r: RolloutRecord, by: string, at: string): RolloutRecord | undefined {
  if (r.state === 'cancelled') return undefined;
  if (isRolloutFinished(r.state))
    throw new RolloutTransitionError(`a ${r.state} rollout cannot be cancelled`);
  return withChange({ ...r, state: 'cancelled' }, 'cancelled', at, { by });
}

export type WaveDecision = 'halt' | 'advance' | 'wait';

/**
 * hawkBit's rule for one wave: halt when the failed share reaches the error threshold, else
 * advance when the succeeded share reaches the success threshold. Integer arithmetic, no rounding.
 */
export function decideWave(
  wave: { size: number; succeeded: number; failed: number },
  successThreshold: number,
  errorThreshold: number,
): WaveDecision {
  if (wave.size === 0) return 'advance';
  if (wave.failed * 100 >= errorThreshold * wave.size) return 'halt';
  if (wave.succeeded * 100 >= successThreshold * wave.size) return 'advance';
  return 'wait';
}

/** What the evaluation tick measured for a rollout's current wave. */
export interface WaveObservation {
  /** Relays serving the target agents that have not relayed the target build yet. */
  pendingRelays: readonly string[];
  /** Members of the current wave that succeeded / failed (relays: report a build >= target). */
  succeeded: number;
  failed: number;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

function startOrWait(r: RolloutRecord, pending: readonly string[], at: string): RolloutRecord {
  const wave = r.waves[r.wave];
  if (wave.startedAt) return r;
  // Relays fetch their own build from the control plane; agent waves wait for their relays.
  if (wave.kind === 'agents' && pending.length > 0) {
    const list = [...pending].sort();
    if (r.state === 'waiting-for-relays' && sameList(r.waitingForRelays, list)) return r;
    return withChange(
      { ...r, state: 'waiting-for-relays', waitingForRelays: list },
      'relays-pending',
      at,
    );
  }
  const waves = r.waves.map((w, i) => (i === r.wave ? { ...w, startedAt: at } : w));
  return withChange({ ...r, waves, state: 'running', waitingForRelays: [] }, 'wave-started', at);
}

/**
 * One evaluation of an unfinished, unpaused rollout: start the current wave when its relays are
 * ready, then count it and halt, advance (starting the next wave if its relays are ready) or
 * complete. Pure: the same record and observation give the same result, so a compare-and-set
 * retry or a second replica's tick computes the same thing. Returns undefined when nothing changed.
 */
export function evaluateRollout(
  r: RolloutRecord,
  seen: WaveObservation,
  at: string,
): RolloutRecord | undefined {
  if (r.state !== 'running' && r.state !== 'waiting-for-relays') return undefined;
  let next = startOrWait(r, seen.pendingRelays, at);
  const current = next.waves[next.wave];
  if (!current.startedAt) return next === r ? undefined : next;
  const counted: Wave = { ...current, succeeded: seen.succeeded, failed: seen.failed };
  // Every relay must serve the target build: the relay wave needs all of them.
  const decision =
    counted.kind === 'relays'
      ? decideWave(counted, 100, 101)
      : decideWave(counted, r.successThreshold, r.errorThreshold);
  const finish = (w: Wave): Wave => (decision === 'wait' ? w : { ...w, finishedAt: at });
  next = { ...next, waves: next.waves.map((w, i) => (i === next.wave ? finish(counted) : w)) };
  if (decision === 'halt') {
    const reason = `${counted.failed} of ${counted.size} agents of wave ${next.wave} failed (error threshold ${r.errorThreshold}%)`;
    return withChange({ ...next, state: 'halted' }, 'halted', at, { reason });
  }
  if (decision === 'advance') {
    next = withChange(next, 'wave-succeeded', at);
    if (next.wave + 1 >= next.waves.length)
      return withChange({ ...next, state: 'completed' }, 'completed', at);
    next = startOrWait({ ...next, wave: next.wave + 1 }, seen.pendingRelays, at);
  }
  return sameRecord(next, r) ? undefined : next;
}

const sameRecord = (a: RolloutRecord, b: RolloutRecord) => JSON.stringify(a) === JSON.stringify(b);

/** The changes not yet announced, oldest first. */
export const unannounced = (r: RolloutRecord): RolloutHistoryEntry[] =>
  r.history.filter((h) => h.revision > r.announced);

/** The API view: the record without its bookkeeping. */
export function rolloutView(r: RolloutRecord): Rollout {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { platform, announced, resumeTo, ...view } = r;
  return view;
}

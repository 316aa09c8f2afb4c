import type { EventData, SUBJECTS, SyncStatus } from '@sup/contracts';

export type EntryResult = 'imported' | 'unchanged' | 'rejected' | 'failed';
type SyncState = SyncStatus['state'];

/** One character per entry in `results`: what became of it, or `.` while it is pending. */
const MARK: Record<EntryResult, string> = {
  imported: 'i',
  unchanged: 'u',
  rejected: 'r',
  failed: 'f',
};
const PENDING = '.';
const MAX_FAILURES_LISTED = 100;
const TERMINAL: ReadonlySet<SyncState> = new Set(['completed', 'refused', 'failed']);

export interface EntryFailure {
  index: number;
  code: string;
  reason: string;
}

/**
 * A sync as it stands: one document changed by compare-and-set from any ingest replica. Every
 * transition is a pure function returning the next aggregate (or undefined for "no change"), and
 * recording an entry twice changes nothing, so redelivered work and retried writes are harmless.
 */
export interface SyncAggregate {
  id: string;
  url: string;
  state: SyncState;
  reason?: string;
  feed?: string;
  sequence?: number;
  total?: number;
  results: string;
  failures: EntryFailure[];
  requestedAt: string;
  startedAt?: string;
  finishedAt?: string;
  deadline: string;
  /** The scheduler asked for it (FEED_SYNC_INTERVAL_S), not an operator. */
  scheduled?: boolean;
  /** Its `syncs.v1.finished` event is on the stream (set by compare-and-set after the publish). */
  announced?: boolean;
}

export interface EntryOutcome {
  index: number;
  result: EntryResult;
  code?: string;
  reason?: string;
}

export const isTerminal = (sync: SyncAggregate): boolean => TERMINAL.has(sync.state);

export function newSync(
  id: string,
  url: string,
  requestedAt: Date,
  deadlineMs: number,
  scheduled = false,
): SyncAggregate {
  return {
    id,
    url,
    ...(scheduled ? { scheduled } : {}),
    state: 'requested',
    results: '',
    failures: [],
    requestedAt: requestedAt.toISOString(),
    deadline: new Date(requestedAt.getTime() + deadlineMs).toISOString(),
  };
}

/** The index verified: the entries are out as work. A feed with no entries is complete at once. */
export function startSync(
  sync: SyncAggregate,
  index: { feed: string; sequence: number; total: number },
  at: Date,
): SyncAggregate | undefined {
  if (sync.state !== 'requested') return undefined;
  const started: SyncAggregate = {
    ...sync,
    state: 'running',
    feed: index.feed,
    sequence: index.sequence,
    total: index.total,
    results: PENDING.repeat(index.total),
    startedAt: at.toISOString(),
  };
  return index.total === 0
    ? { ...started, state: 'completed', finishedAt: at.toISOString() }
    : started;
}

/** Ends a sync that could not go on: `refused` (the feed is not trustworthy) or `failed`. */
export function stopSync(
  sync: SyncAggregate,
  state: 'refused' | 'failed',
  reason: string,
  at: Date,
): SyncAggregate | undefined {
  if (isTerminal(sync)) return undefined;
  return { ...sync, state, reason, finishedAt: at.toISOString() };
}

/** Folds entry outcomes in; the sync completes (or fails, naming the failed entries) with the last one. */
export function recordEntries(
  sync: SyncAggregate,
  outcomes: readonly EntryOutcome[],
  at: Date,
): SyncAggregate | undefined {
  if (sync.state !== 'running') return undefined;
  const results = sync.results.split('');
  const failures = [...sync.failures];
  let changed = false;
  for (const o of outcomes) {
    if (o.index < 0 || o.index >= results.length || results[o.index] !== PENDING) continue;
    results[o.index] = MARK[o.result];
    changed = true;
    if (o.result === 'failed' && failures.length < MAX_FAILURES_LISTED) {
      failures.push({ index: o.index, code: o.code ?? 'failed', reason: o.reason ?? 'failed' });
    }
  }
  if (!changed) return undefined;
  const next: SyncAggregate = { ...sync, results: results.join(''), failures };
  if (results.includes(PENDING)) return next;
  const failed = countOf(next, 'failed');
  return failed > 0
    ? {
        ...next,
        state: 'failed',
        reason: `${failed} of ${results.length} entries could not be imported`,
        finishedAt: at.toISOString(),
      }
    : { ...next, state: 'completed', finishedAt: at.toISOString() };
}

/** Past its deadline, an unfinished sync fails, naming how many entries never finished. */
export function expireSync(sync: SyncAggregate, now: Date): SyncAggregate | undefined {
  if (isTerminal(sync) || now.getTime() <= Date.parse(sync.deadline)) return undefined;
  const pending = countOf(sync, 'pending');
  const reason =
    sync.state === 'requested'
      ? 'the sync did not start before its deadline'
      : `deadline passed with ${pending} of ${sync.total ?? 0} entries unfinished`;
  return { ...sync, state: 'failed', reason, finishedAt: now.toISOString() };
}

export function countOf(sync: SyncAggregate, what: EntryResult | 'pending'): number {
  const mark = what === 'pending' ? PENDING : MARK[what];
  let n = 0;
  for (const c of sync.results) if (c === mark) n++;
  return n;
}

export function entryDone(sync: SyncAggregate, index: number): boolean {
  const c = sync.results[index];
  return c !== undefined && c !== PENDING;
}

/** A finished sync's `syncs.v1.finished` event, until it was announced; else undefined. */
export function unannouncedOutcome(
  sync: SyncAggregate,
): EventData<typeof SUBJECTS.syncFinished> | undefined {
  if (!isTerminal(sync) || sync.announced) return undefined;
  const state = sync.state as 'completed' | 'refused' | 'failed';
  return {
    syncId: sync.id,
    url: sync.url,
    state,
    ...(sync.reason ? { reason: sync.reason.slice(0, 2_000) } : {}),
    scheduled: sync.scheduled === true,
    ...(sync.feed ? { feed: sync.feed } : {}),
    requestedAt: sync.requestedAt,
    finishedAt: sync.finishedAt ?? sync.requestedAt,
    entries: {
      total: sync.total ?? 0,
      imported: countOf(sync, 'imported'),
      unchanged: countOf(sync, 'unchanged'),
      rejected: countOf(sync, 'rejected'),
      failed: countOf(sync, 'failed'),
    },
  };
}

/** Marks a finished sync announced (its event is on the stream); undefined when nothing changes. */
export const markAnnounced = (sync: SyncAggregate): SyncAggregate | undefined =>
  isTerminal(sync) && !sync.announced ? { ...sync, announced: true } : undefined;

/** The REST view of a sync. */
export function syncStatus(sync: SyncAggregate): SyncStatus {
  return {
    id: sync.id,
    url: sync.url,
    state: sync.state,
    ...(sync.reason ? { reason: sync.reason } : {}),
    ...(sync.feed ? { feed: sync.feed } : {}),
    ...(sync.sequence !== undefined ? { sequence: sync.sequence } : {}),
    imported: countOf(sync, 'imported'),
    unchanged: countOf(sync, 'unchanged'),
    rejected: countOf(sync, 'rejected'),
    failed: countOf(sync, 'failed'),
    pending: sync.state === 'requested' ? 0 : countOf(sync, 'pending'),
    ...(sync.total !== undefined ? { total: sync.total } : {}),
    ...(sync.failures.length ? { failures: sync.failures } : {}),
    requestedAt: sync.requestedAt,
    ...(sync.startedAt ? { startedAt: sync.startedAt } : {}),
    ...(sync.finishedAt ? { finishedAt: sync.finishedAt } : {}),
    deadline: sync.deadline,
  };
}

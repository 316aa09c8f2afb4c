import type { KeyObject } from 'node:crypto';
import { AuditRecordSchema, type AuditRecord } from '@sup/contracts';
import { checkpointSignatureValid, keyIdOf } from './checkpoint';
import { GENESIS_HASH, recordHash } from './record';

export type ChainProblemKind = 'altered' | 'removed' | 'reordered' | 'bad-checkpoint';

/** The first record that is not what the chain says it should be. */
export interface ChainProblem {
  seq: number;
  kind: ChainProblemKind;
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  /** Records that verified (before the problem, if any). */
  records: number;
  byKind: { verdict: number; action: number; checkpoint: number };
  firstSeq?: number;
  lastSeq?: number;
  lastCheckpointSeq?: number;
  /** Records after the last checkpoint: chained, but not yet anchored by a signature. */
  unanchored: number;
  /**
   * Source events chained more than once. Not a break of the chain: a redelivery later than the
   * duplicate window can append an event again (see docs/architecture.md, "Audit log").
   */
  duplicateSources: number;
  problem?: ChainProblem;
}

export interface ChainVerifierOptions {
  publicKey: KeyObject;
  /** Sequence the chain must start at: 1, unless the stream's age limit dropped older records. */
  firstSeq?: number;
}

/** One message of the chain stream as read: its stream sequence and bytes. */
export interface ChainEntry {
  seq: number;
  data: string | Uint8Array;
}

const text = (data: string | Uint8Array): string =>
  typeof data === 'string' ? data : Buffer.from(data).toString('utf8');

/** The record in `data`, or why it is none. */
function parseRecord(data: string | Uint8Array): AuditRecord | string {
  let json: unknown;
  try {
    json = JSON.parse(text(data));
  } catch {
    return 'not JSON';
  }
  const parsed = AuditRecordSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return `not a record: ${issue.path.join('.')}: ${issue.message}`;
}

/**
 * Verifies a chain read in stream order, one message at a time (the chain can be larger than
 * memory). `push` returns false at the first problem; `finish` reports.
 */
export class ChainVerifier {
  private readonly keyId: string;
  private prev: AuditRecord | undefined;
  private readonly report: ChainReport = {
    ok: true,
    records: 0,
    byKind: { verdict: 0, action: 0, checkpoint: 0 },
    unanchored: 0,
    duplicateSources: 0,
  };
  private readonly sources = new Set<string>();
  /** Hash -> sequence of every record accepted, to recognise a record moved after another. */
  private readonly seen = new Map<string, number>();
  /** A record whose link to the previous one broke, waiting for the next record to say which is foreign. */
  private pending: { record: AuditRecord } | undefined;

  constructor(private readonly options: ChainVerifierOptions) {
    this.keyId = keyIdOf(options.publicKey);
  }

  push(entry: ChainEntry): boolean {
    if (this.report.problem) return false;
    const problem = this.check(entry);
    if (problem) {
      this.report.problem = problem;
      this.report.ok = false;
      return false;
    }
    return true;
  }

  /** `lastSeq`: the stream's last sequence, so records removed from the end are noticed too. */
  finish(lastSeq?: number): ChainReport {
    if (!this.report.problem && this.pending) this.fail(this.brokenAt());
    const end = this.prev?.seq ?? (this.options.firstSeq ?? 1) - 1;
    if (!this.report.problem && lastSeq !== undefined && lastSeq > end) {
      this.fail({
        seq: end + 1,
        kind: 'removed',
        detail: `the chain ends at ${lastSeq} but records ${end + 1}..${lastSeq} are gone`,
      });
    }
    return { ...this.report, byKind: { ...this.report.byKind } };
  }

  private fail(problem: ChainProblem): void {
    this.report.problem = problem;
    this.report.ok = false;
  }

  private check({ seq, data }: ChainEntry): ChainProblem | undefined {
    const last = this.pending?.record ?? this.prev;
    const expected = last ? last.seq + 1 : (this.options.firstSeq ?? 1);
    if (seq > expected) {
      const range =
        seq - 1 > expected ? `records ${expected}..${seq - 1} are` : `record ${expected} is`;
      return this.pending
        ? this.brokenAt()
        : { seq: expected, kind: 'removed', detail: `${range} missing` };
    }
    if (seq < expected) {
      return { seq, kind: 'reordered', detail: `read out of order after ${expected - 1}` };
    }
    const parsed = parseRecord(data);
    if (typeof parsed === 'string') return { seq, kind: 'altered', detail: parsed };
    const record = parsed;
    if (recordHash(record) !== record.hash) {
      return { seq, kind: 'altered', detail: 'its content does not match its hash' };
    }
    if (record.seq !== seq) {
      return {
        seq,
        kind: 'reordered',
        detail: `the record at ${seq} was made for position ${record.seq}`,
      };
    }
    const content = this.checkContent(record);
    if (content) return content;
    if (this.pending) return this.resolveBreak(record);
    const link = this.checkLink(record);
    if (link !== 'pending') {
      if (!link) this.accept(record);
      return link;
    }
    this.pending = { record };
    return undefined;
  }

  /**
   * A record that does not chain to the one before it. Both match their own hashes, so one of them
   * was replaced by a resealed record, or moved: which one, the next record tells (see resolveBreak).
   */
  private checkLink(record: AuditRecord): ChainProblem | 'pending' | undefined {
    if (!this.prev) {
      if (record.seq === 1 && record.prevHash !== GENESIS_HASH) {
        return { seq: 1, kind: 'altered', detail: 'the first record does not start the chain' };
      }
      return undefined;
    }
    if (record.prevHash === this.prev.hash) return undefined;
    const earlier = this.seen.get(record.prevHash);
    if (earlier !== undefined) {
      return {
        seq: record.seq,
        kind: 'reordered',
        detail: `it chains after record ${earlier}, not after ${this.prev.seq}`,
      };
    }
    return 'pending';
  }

  /** The record after a broken link: if it chains to the record before the break, the middle one is foreign. */
  private resolveBreak(next: AuditRecord): ChainProblem {
    const suspect = this.pending!.record;
    if (this.prev && next.prevHash === this.prev.hash) {
      return {
        seq: suspect.seq,
        kind: 'altered',
        detail: `it does not belong here: record ${next.seq} chains to record ${this.prev.seq}`,
      };
    }
    return this.brokenAt(next.prevHash === suspect.hash ? this.prev?.seq : undefined);
  }

  /** Reports the break: at `replaced` when the records after it agree with each other, else at the suspect. */
  private brokenAt(replaced?: number): ChainProblem {
    const suspect = this.pending!.record;
    const prevSeq = suspect.seq - 1;
    if (replaced !== undefined) {
      return {
        seq: replaced,
        kind: 'altered',
        detail: `record ${suspect.seq} and later chain to a different record ${replaced}: it was replaced`,
      };
    }
    return {
      seq: suspect.seq,
      kind: 'altered',
      detail: `it does not chain to record ${prevSeq} (one of the two was replaced)`,
    };
  }

  private checkContent(record: AuditRecord): ChainProblem | undefined {
    const cp = record.checkpoint;
    if (record.kind !== 'checkpoint') {
      return cp
        ? { seq: record.seq, kind: 'altered', detail: 'a checkpoint in a non-checkpoint record' }
        : undefined;
    }
    const bad = (detail: string): ChainProblem => ({
      seq: record.seq,
      kind: 'bad-checkpoint',
      detail,
    });
    if (!cp) return bad('a checkpoint record without a checkpoint');
    if (cp.headSeq !== record.seq - 1 || cp.headHash !== record.prevHash) {
      return bad(`anchors ${cp.headSeq} but follows ${record.seq - 1}`);
    }
    if (cp.keyId !== this.keyId) {
      return bad(
        `signed by key ${cp.keyId.slice(0, 16)}…, not the given key ${this.keyId.slice(0, 16)}…`,
      );
    }
    if (!checkpointSignatureValid(cp, record.at, this.options.publicKey)) {
      return bad('the signature does not verify');
    }
    return undefined;
  }

  private accept(record: AuditRecord): void {
    const r = this.report;
    r.records++;
    r.byKind[record.kind]++;
    r.firstSeq ??= record.seq;
    r.lastSeq = record.seq;
    if (record.kind === 'checkpoint') {
      r.lastCheckpointSeq = record.seq;
      r.unanchored = 0;
    } else {
      r.unanchored++;
    }
    if (record.source) {
      if (this.sources.has(record.source.id)) r.duplicateSources++;
      else this.sources.add(record.source.id);
    }
    this.seen.set(record.hash, record.seq);
    this.prev = record;
  }
}

/** Verifies a whole chain held in memory. */
export function verifyChain(
  entries: Iterable<ChainEntry>,
  options: ChainVerifierOptions & { lastSeq?: number },
): ChainReport {
  const verifier = new ChainVerifier(options);
  for (const entry of entries) if (!verifier.push(entry)) break;
  return verifier.finish(options.lastSeq);
}

/** One line for an operator. */
export function describeReport(report: ChainReport): string {
  const counts =
    `${report.records} records (${report.byKind.verdict} verdicts, ${report.byKind.action} actions, ` +
    `${report.byKind.checkpoint} checkpoints)`;
  if (report.problem) {
    const p = report.problem;
    return `FAILED at record ${p.seq}: ${p.kind}: ${p.detail} (${counts} verified before it)`;
  }
  const range =
    report.firstSeq === undefined ? 'empty chain' : `seq ${report.firstSeq}..${report.lastSeq}`;
  const anchor =
    report.lastCheckpointSeq === undefined
      ? 'no checkpoint yet'
      : `last checkpoint at ${report.lastCheckpointSeq}, ${report.unanchored} records after it`;
  const dups = report.duplicateSources
    ? `, ${report.duplicateSources} source events chained twice`
    : '';
  return `OK: ${range}, ${counts}; ${anchor}${dups}`;
}

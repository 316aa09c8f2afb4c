import { createHash } from 'node:crypto';
import type { AuditRecord } from '@sup/contracts';
import { canonicalJson } from './canonical';

/** `prevHash` of the first record: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

export type UnhashedRecord = Omit<AuditRecord, 'hash'>;

export const sha256Hex = (text: string | Uint8Array): string =>
  createHash('sha256').update(text).digest('hex');

/** The SHA-256 of the canonical JSON of every field but `hash`. */
export function recordHash(record: UnhashedRecord | AuditRecord): string {
  return sha256Hex(canonicalJson({ ...record, hash: undefined }));
}

/** The record with its hash filled in. */
export function sealRecord(record: UnhashedRecord): AuditRecord {
  return { ...record, hash: recordHash(record) };
}

/** The link a new record needs: where the chain ends now. */
export interface ChainTail {
  /** Stream sequence of the last record; 0 for an empty chain. */
  seq: number;
  /** Its hash (GENESIS_HASH for an empty chain). */
  hash: string;
}

export const EMPTY_TAIL: ChainTail = { seq: 0, hash: GENESIS_HASH };

/** What a record says apart from its position in the chain. */
export type RecordContent = Omit<UnhashedRecord, 'v' | 'seq' | 'prevHash'>;

/**
 * Chains contents after `tail`, in order: consecutive sequences, each linked to the one before.
 * The caller appends them with the matching expected sequences; a lost race means chaining the
 * rest again after the new tail.
 */
export function chainAfter(tail: ChainTail, contents: readonly RecordContent[]): AuditRecord[] {
  const records: AuditRecord[] = [];
  let prev = tail;
  for (const content of contents) {
    const record = sealRecord({ v: 1, seq: prev.seq + 1, prevHash: prev.hash, ...content });
    records.push(record);
    prev = { seq: record.seq, hash: record.hash };
  }
  return records;
}

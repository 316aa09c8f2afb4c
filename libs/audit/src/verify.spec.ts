import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AuditRecord } from '@sup/contracts';
import { signCheckpoint } from './checkpoint';
import {
  chainAfter,
  EMPTY_TAIL,
  GENESIS_HASH,
  sealRecord,
  type RecordContent,
  type UnhashedRecord,
} from './record';
import { describeReport, verifyChain, type ChainEntry } from './verify';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

const verdict = (i: number): RecordContent => ({
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  kind: i % 3 === 0 ? 'action' : 'verdict',
  source: {
    id: `upd_${i}:updates.v1.imported`,
    type: 'io.signed-update-pipeline.updates.v1.imported',
    subject: `updates.v1.imported.upd_${i}`,
    time: '2026-01-01T00:00:00.000Z',
  },
  ...(i % 3 === 0
    ? { actor: { type: 'token' as const, name: 'ci', role: 'operator' as const } }
    : {}),
  summary: { updateId: `upd_${i}`, verdict: 'imported', n: i },
});

/** A chain of `n` records with a signed checkpoint after every `every` of them. */
function buildChain(n: number, every: number, key: KeyObject = privateKey): AuditRecord[] {
  const records: AuditRecord[] = [];
  let tail = EMPTY_TAIL;
  for (let i = 1; records.length < n; i++) {
    const content =
      records.length % (every + 1) === every
        ? signCheckpoint(tail, new Date(Date.UTC(2026, 0, 2, 0, 0, i)), key)
        : verdict(i);
    const [record] = chainAfter(tail, [content]);
    records.push(record);
    tail = { seq: record.seq, hash: record.hash };
  }
  return records;
}

const entries = (records: readonly AuditRecord[]): ChainEntry[] =>
  records.map((r) => ({ seq: r.seq, data: JSON.stringify(r) }));

/** Puts `record` at stream position `seq` (as a forger with write access to the stream would). */
const at = (seq: number, record: AuditRecord): ChainEntry => ({
  seq,
  data: JSON.stringify(record),
});

const reseal = (record: AuditRecord, change: Partial<AuditRecord>): AuditRecord => {
  const rest: Partial<AuditRecord> = { ...record, ...change };
  delete rest.hash;
  return sealRecord(rest as UnhashedRecord);
};

describe('verifyChain', () => {
  const chain = buildChain(20, 4);

  it('accepts an intact chain and counts its records, checkpoints and unanchored tail', () => {
    const report = verifyChain(entries(chain), { publicKey, lastSeq: 20 });
    expect(report.problem).toBeUndefined();
    expect(report).toMatchObject({ ok: true, records: 20, firstSeq: 1, lastSeq: 20 });
    expect(report.byKind.checkpoint).toBe(4);
    expect(report.lastCheckpointSeq).toBe(20);
    expect(report.unanchored).toBe(0);
    expect(describeReport(report)).toMatch(/^OK: seq 1\.\.20, 20 records/);
  });

  it('starts from the genesis hash', () => {
    expect(chain[0].prevHash).toBe(GENESIS_HASH);
    expect(chain[1].prevHash).toBe(chain[0].hash);
  });

  it('reports a record whose content was changed as altered', () => {
    const tampered = entries(chain);
    const changed = { ...chain[6], summary: { updateId: 'upd_x', verdict: 'published' } };
    tampered[6] = at(7, changed);
    const report = verifyChain(tampered, { publicKey });
    expect(report.problem).toEqual({
      seq: 7,
      kind: 'altered',
      detail: 'its content does not match its hash',
    });
    expect(report.records).toBe(6);
  });

  it('reports a changed and resealed record as altered, at that record', () => {
    const tampered = entries(chain);
    tampered[6] = at(7, reseal(chain[6], { summary: { verdict: 'published' } }));
    expect(verifyChain(tampered, { publicKey }).problem).toMatchObject({ seq: 7, kind: 'altered' });
  });

  it('reports the first removed record', () => {
    const removed = entries(chain).filter((e) => e.seq !== 8 && e.seq !== 9);
    expect(verifyChain(removed, { publicKey }).problem).toEqual({
      seq: 8,
      kind: 'removed',
      detail: 'records 8..9 are missing',
    });
  });

  it('reports records removed from the end against the stream last sequence', () => {
    const report = verifyChain(entries(chain.slice(0, 17)), { publicKey, lastSeq: 20 });
    expect(report.problem).toMatchObject({ seq: 18, kind: 'removed' });
  });

  it('reports the first of two swapped records as reordered', () => {
    const swapped = entries(chain);
    swapped[11] = at(12, chain[12]);
    swapped[12] = at(13, chain[11]);
    expect(verifyChain(swapped, { publicKey }).problem).toEqual({
      seq: 12,
      kind: 'reordered',
      detail: 'the record at 12 was made for position 13',
    });
  });

  it('reports swapped records that were resealed for their new places at the first of them', () => {
    const swapped = entries(chain);
    swapped[11] = at(12, reseal(chain[12], { seq: 12 }));
    swapped[12] = at(13, reseal(chain[11], { seq: 13 }));
    expect(verifyChain(swapped, { publicKey }).problem).toMatchObject({ seq: 12, kind: 'altered' });
  });

  it('reports a forged checkpoint whose signature does not cover its head', () => {
    const forged = entries(chain);
    const cp = chain[9];
    expect(cp.kind).toBe('checkpoint');
    // The forger rewrote record 9 and re-anchored the checkpoint to it, but cannot sign.
    const nine = reseal(chain[8], { summary: { verdict: 'validated' } });
    const checkpoint = { ...cp.checkpoint!, headHash: nine.hash };
    forged[8] = at(9, nine);
    forged[9] = at(10, reseal(cp, { prevHash: nine.hash, checkpoint }));
    expect(verifyChain(forged, { publicKey }).problem).toEqual({
      seq: 10,
      kind: 'bad-checkpoint',
      detail: 'the signature does not verify',
    });
  });

  it('reports a checkpoint signed by another key', () => {
    const foreign = buildChain(10, 4, other.privateKey);
    const report = verifyChain(entries(foreign), { publicKey });
    expect(report.problem).toMatchObject({ seq: 5, kind: 'bad-checkpoint' });
    expect(report.problem?.detail).toMatch(/^signed by key [0-9a-f]{16}…, not the given key/);
  });

  it('reports the wrong key given to the verifier at the first checkpoint', () => {
    const report = verifyChain(entries(chain), { publicKey: other.publicKey });
    expect(report.problem).toMatchObject({ seq: 5, kind: 'bad-checkpoint' });
  });

  it('reports bytes that are not a record as altered', () => {
    const junk = entries(chain);
    junk[2] = { seq: 3, data: '{"v":1}' };
    expect(verifyChain(junk, { publicKey }).problem).toMatchObject({ seq: 3, kind: 'altered' });
    junk[2] = { seq: 3, data: 'not json' };
    expect(verifyChain(junk, { publicKey }).problem).toEqual({
      seq: 3,
      kind: 'altered',
      detail: 'not JSON',
    });
  });

  it('counts a source event chained twice without failing the chain', () => {
    const [a] = chainAfter(EMPTY_TAIL, [verdict(1)]);
    const [b] = chainAfter({ seq: 1, hash: a.hash }, [verdict(1)]);
    const report = verifyChain(entries([a, b]), { publicKey });
    expect(report).toMatchObject({ ok: true, duplicateSources: 1, unanchored: 2 });
  });

  it('checks a chain whose oldest records expired from the given first sequence', () => {
    expect(verifyChain(entries(chain.slice(5)), { publicKey, firstSeq: 6 }).ok).toBe(true);
    expect(verifyChain(entries(chain.slice(5)), { publicKey }).problem).toMatchObject({
      seq: 1,
      kind: 'removed',
    });
  });
});

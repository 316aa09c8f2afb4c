import { JetStreamApiError, type StoredMsg } from '@nats-io/jetstream';
import { EMPTY_TAIL, sha256Hex, type ChainTail } from '@sup/audit';
import {
  AUDIT_CHAIN_CHECKPOINT_SUBJECT,
  AUDIT_CHAIN_RECORD_SUBJECT,
  AUDIT_CHAIN_STREAM,
  AuditRecordSchema,
  type AuditRecord,
} from '@sup/contracts';
import type { JetStreamConnection } from '@sup/jetstream';

/** JetStream's answer when `Nats-Expected-Last-Sequence` does not hold. */
const WRONG_LAST_SEQUENCE = 10071;

/** The chain's end, and what kind of record is there. */
export interface Tail extends ChainTail {
  kind?: AuditRecord['kind'];
}

/** One record to append, with its `Nats-Msg-Id` (the source event, or the checkpoint's head). */
export interface Append {
  record: AuditRecord;
  msgId: string;
}

export type AppendResult = 'stored' | 'duplicate' | 'lost-race' | Error;

/** How far back the tail search looks past deleted messages before giving up. */
const TAIL_SEARCH = 1_000;

/** The `AUDIT_CHAIN` stream: reading its tail and records, and appending with compare-and-set. */
export class ChainStore {
  constructor(private readonly connection: JetStreamConnection) {}

  async lastSeq(): Promise<number> {
    const info = await this.connection.jsm.streams.info(AUDIT_CHAIN_STREAM);
    return info.state.last_seq;
  }

  get(seq: number): Promise<StoredMsg | null> {
    return this.connection.jsm.streams.getMessage(AUDIT_CHAIN_STREAM, { seq });
  }

  /**
   * The sequence a new record must follow (the stream's last sequence, even when that message was
   * deleted) and the hash it links to (the newest record still there). A record that does not
   * parse is linked to by the hash of its bytes, so the chain goes on and the verifier reports it.
   */
  async tail(): Promise<Tail> {
    const last = await this.lastSeq();
    if (last === 0) return EMPTY_TAIL;
    for (let seq = last; seq > Math.max(0, last - TAIL_SEARCH); seq--) {
      const msg = await this.get(seq);
      if (!msg) continue;
      const parsed = AuditRecordSchema.safeParse(safeJson(msg.data));
      return parsed.success
        ? { seq: last, hash: parsed.data.hash, kind: parsed.data.kind }
        : { seq: last, hash: sha256Hex(msg.data) };
    }
    throw new Error(
      `${AUDIT_CHAIN_STREAM}: no record in the last ${TAIL_SEARCH} sequences up to ${last}`,
    );
  }

  /** Sequence of the newest checkpoint, 0 when there is none. */
  async lastCheckpointSeq(): Promise<number> {
    const msg = await this.connection.jsm.streams.getMessage(AUDIT_CHAIN_STREAM, {
      last_by_subj: AUDIT_CHAIN_CHECKPOINT_SUBJECT,
    });
    return msg?.seq ?? 0;
  }

  /**
   * Publishes consecutive records one after the other, each with the sequence it must follow, and
   * stops at the first that is not stored: its result is the last one returned. Not pipelined on
   * purpose: JetStream answers a known message id as a duplicate before it checks the expected
   * sequence, so after a duplicate (this source chained by another replica, perhaps at that very
   * position with other bytes) no later record may land on what this one assumed. Once a record
   * is acknowledged as stored at its sequence, the next one expecting that sequence can only
   * follow it.
   */
  async append(appends: readonly Append[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const a of appends) {
      const result = await this.publish(a);
      results.push(result);
      if (result !== 'stored') break;
    }
    return results;
  }

  private async publish(a: Append): Promise<AppendResult> {
    const subject =
      a.record.kind === 'checkpoint' ? AUDIT_CHAIN_CHECKPOINT_SUBJECT : AUDIT_CHAIN_RECORD_SUBJECT;
    try {
      const ack = await this.connection.js.publish(subject, JSON.stringify(a.record), {
        msgID: a.msgId,
        expect: { lastSequence: a.record.seq - 1 },
      });
      return ack.duplicate ? 'duplicate' : 'stored';
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) {
        return 'lost-race';
      }
      return error instanceof Error ? error : new Error(String(error));
    }
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

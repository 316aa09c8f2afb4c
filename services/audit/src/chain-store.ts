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

/** JetStream's answers when `Nats-Expected-Last-Sequence` / `-Last-Msg-Id` do not hold. */
const WRONG_LAST_SEQUENCE = 10071;
const WRONG_LAST_MSG_ID = 10070;

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
   * Publishes consecutive records pipelined. Each must find the stream exactly as the one before
   * left it: the first expects the tail's sequence, the others also the previous record's message
   * id, so once one position is taken by another replica every later record fails too instead of
   * landing after a stranger. JetStream checks the message id before the expected sequence: a
   * record whose source is already chained comes back `duplicate` whatever position it expected.
   */
  async append(appends: readonly Append[]): Promise<AppendResult[]> {
    const subjectOf = (a: Append): string =>
      a.record.kind === 'checkpoint' ? AUDIT_CHAIN_CHECKPOINT_SUBJECT : AUDIT_CHAIN_RECORD_SUBJECT;
    const publishes = appends.map((a, i) =>
      this.connection.js.publish(subjectOf(a), JSON.stringify(a.record), {
        msgID: a.msgId,
        expect: {
          lastSequence: a.record.seq - 1,
          ...(i > 0 ? { lastMsgID: appends[i - 1].msgId } : {}),
        },
      }),
    );
    const settled = await Promise.allSettled(publishes);
    return settled.map((s): AppendResult => {
      if (s.status === 'fulfilled') return s.value.duplicate ? 'duplicate' : 'stored';
      const error: unknown = s.reason;
      if (
        error instanceof JetStreamApiError &&
        (error.code === WRONG_LAST_SEQUENCE || error.code === WRONG_LAST_MSG_ID)
      ) {
        return 'lost-race';
      }
      return error instanceof Error ? error : new Error(String(error));
    });
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

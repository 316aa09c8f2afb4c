import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { ChainEntry } from '@sup/audit';
import { AUDIT_CHAIN_STREAM } from '@sup/contracts';

const FETCH_BATCH = 500;
const FETCH_EXPIRES_MS = 2_000;

export interface ChainSnapshot {
  /** The stream's first and last sequence when reading began. */
  firstSeq: number;
  lastSeq: number;
  /** Whether the stream has an age or size limit (then old records may have expired). */
  limited: boolean;
}

export async function chainSnapshot(jsm: JetStreamManager): Promise<ChainSnapshot> {
  const info = await jsm.streams.info(AUDIT_CHAIN_STREAM);
  const { max_age: maxAge, max_bytes: maxBytes, max_msgs: maxMsgs } = info.config;
  return {
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    limited: (maxAge ?? 0) > 0 || (maxBytes ?? -1) > 0 || (maxMsgs ?? -1) > 0,
  };
}

/**
 * Every message of the chain up to `lastSeq`, in stream order, through an ordered (ephemeral)
 * consumer that is deleted afterwards: reading leaves nothing behind.
 */
export async function* readChain(js: JetStreamClient, lastSeq: number): AsyncGenerator<ChainEntry> {
  if (lastSeq === 0) return;
  const consumer = await js.consumers.get(AUDIT_CHAIN_STREAM);
  try {
    for (;;) {
      const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
      let got = 0;
      for await (const msg of batch) {
        got++;
        if (msg.seq > lastSeq) return;
        yield { seq: msg.seq, data: msg.data };
        if (msg.seq === lastSeq) return;
      }
      // Nothing more: the messages up to lastSeq that are left were deleted.
      if (got === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

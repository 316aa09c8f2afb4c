import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { JetStreamConnection } from './connection';

/** A running follower (`followSubject`). */
export interface SubjectFollower {
  stop(): Promise<void>;
}

export interface FollowOptions {
  stream: string;
  /** One subject filter (the server here takes no list of filters). */
  subject: string;
  /** The first stream sequence to deliver; the stream's last sequence + 1 follows only new ones. */
  fromSeq: number;
  onError?: (error: unknown) => void;
}

/** How long a follower whose consumer failed (NATS away) waits before it starts again. */
const REFOLLOW_MS = 1_000;

/**
 * Delivers every message of `subject` from `fromSeq` on, in stream order, to this process alone:
 * an ordered push consumer to the service's own inbox, which the server forgets when the process
 * goes (grant: `follows` in libs/contracts nats-permissions). For state each replica
 * keeps in memory (a shared durable would give each replica only part of the messages). No acks,
 * so `onMessage` must not throw for a message it cannot use: it logs and goes on. If the consumer
 * fails it starts again after the last sequence delivered.
 */
export function followSubject(
  connection: JetStreamConnection,
  options: FollowOptions,
  onMessage: (msg: JsMsg) => void,
): SubjectFollower {
  let stopped = false;
  let next = options.fromSeq;
  let messages: ConsumerMessages | undefined;
  const follow = async (): Promise<void> => {
    while (!stopped) {
      try {
        // Push, not pull: it needs no grant to pull (which would reach other services' durables).
        const consumer = await connection.js.consumers.getPushConsumer(options.stream, {
          filter_subjects: options.subject,
          opt_start_seq: next,
        });
        messages = await consumer.consume();
        if (stopped) messages.stop();
        for await (const msg of messages) {
          next = msg.seq + 1;
          onMessage(msg);
        }
      } catch (error) {
        options.onError?.(error);
      }
      if (!stopped) await new Promise((r) => setTimeout(r, REFOLLOW_MS));
    }
  };
  const loop = follow();
  return {
    stop: async () => {
      stopped = true;
      messages?.stop();
      await loop;
    },
  };
}

/** The stream's next sequence: a follower started there sees only what is stored from now on. */
export async function nextSequence(
  connection: JetStreamConnection,
  stream: string,
): Promise<number> {
  const info = await connection.jsm.streams.info(stream);
  return info.state.last_seq + 1;
}

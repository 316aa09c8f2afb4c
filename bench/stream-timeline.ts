import { typeFilter, UPDATE_SUBJECTS, type Subject } from '@sup/contracts';
import { connectJetStream, type NatsAuth } from '@sup/jetstream';

/** When each entity's event of one type was stored, by entity id (JetStream's own timestamps). */
export type Timeline = Map<string, number>;

/**
 * Reads every update event as a subscriber does (an ordered consumer from the start of UPDATES)
 * and keeps the time JetStream stored each: the pipeline's own clock, with no API in the way.
 */
export async function readTimelines(
  natsUrl: string,
  /** The harness's admin user when its NATS has per-service users. */
  auth?: NatsAuth,
): Promise<Record<Subject, Timeline>> {
  const connection = await connectJetStream({ servers: natsUrl, service: 'bench-reader', auth });
  try {
    const { js } = connection;
    const out = {} as Record<Subject, Timeline>;
    for (const type of UPDATE_SUBJECTS) {
      const timeline: Timeline = new Map();
      out[type] = timeline;
      const consumer = await js.consumers.get('UPDATES', { filter_subjects: typeFilter(type) });
      if ((await consumer.info()).num_pending === 0) continue;
      for await (const m of await consumer.consume({ max_messages: 1_000 })) {
        timeline.set(m.subject.slice(type.length + 1), m.info.timestampNanos / 1e6);
        if (m.info.pending === 0) break;
      }
    }
    return out;
  } finally {
    await connection.close();
  }
}

/** Events per second over a sorted list of times: count over the span from the first to the last. */
export function rateOf(times: number[]): number {
  if (times.length < 2) return Number.NaN;
  const span = (times[times.length - 1] - times[0]) / 1000;
  return span > 0 ? (times.length - 1) / span : Number.NaN;
}

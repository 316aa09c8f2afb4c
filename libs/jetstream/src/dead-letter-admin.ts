import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { DLQ_PREFIX, dlqSubject } from '@sup/contracts';
import { parseDeadLetter, wireSubject, type DeadLetter } from './dead-letter';
import { errorMessage } from './errors';
import { publishWithRetry } from './publish-retry';
import { streamForSubject, subjectMatches } from './streams';

/** The stream the contracts put dead letters in. */
export const DLQ_STREAM = streamForSubject(dlqSubject('any', 'subject')).name;

/** One message of the DLQ stream; `letter` is missing when the body is not a valid dead letter. */
export interface DeadLetterEntry {
  /** Sequence in the DLQ stream: what `show`, `replay` and `drop` take. */
  seq: number;
  /** The DLQ subject, `dlq.v1.<service>.<…>`. */
  dlqSubject: string;
  storedAt: Date;
  /** From the letter, or from the DLQ subject when the body is not a dead letter. */
  service: string;
  letter?: DeadLetter;
  /** Why the body is not a dead letter. */
  problem?: string;
}

export interface DeadLetterFilter {
  service?: string;
  /** A NATS subject filter (`*`, `>`) on the subject the failed message was published on. */
  subjectFilter?: string;
}

export interface ListOptions extends DeadLetterFilter {
  /** Entries returned at most, oldest first. Default: all. */
  limit?: number;
}

export interface ListResult {
  entries: DeadLetterEntry[];
  /** Messages left unread because the limit was reached (some may not match the filter). */
  unread: number;
}

export type ActionOutcome = 'replayed' | 'dropped' | 'failed';

export interface ActionResult {
  seq: number;
  outcome: ActionOutcome;
  detail: string;
  entry?: DeadLetterEntry;
}

const FETCH_BATCH = 256;
const FETCH_EXPIRES_MS = 5_000;

/** The `<service>` of `dlq.v1.<service>.<…>`, whatever follows it (it is opaque here). */
function serviceOf(subject: string): string {
  const rest = subject.startsWith(`${DLQ_PREFIX}.`) ? subject.slice(DLQ_PREFIX.length + 1) : '';
  return rest.split('.')[0] ?? '';
}

/** The subject the failed message was published on; for a broken body, the opaque DLQ suffix. */
export function originalSubjectOf(entry: DeadLetterEntry): string {
  if (entry.letter) return wireSubject(entry.letter);
  return entry.dlqSubject.slice(dlqSubject(entry.service, '').length);
}

function toEntry(seq: number, subject: string, storedAt: Date, body: string): DeadLetterEntry {
  const parsed = parseDeadLetter(body);
  const stored = { seq, dlqSubject: subject, storedAt };
  return parsed.ok
    ? { ...stored, service: parsed.letter.service, letter: parsed.letter }
    : { ...stored, service: serviceOf(subject), problem: parsed.problem };
}

/** The CloudEvent id of a dead letter's event: the message id a replay must carry. */
function eventIdOf(letter: DeadLetter): string | undefined {
  try {
    const json: unknown = JSON.parse(letter.event);
    const id =
      typeof json === 'object' && json !== null ? (json as { id?: unknown }).id : undefined;
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The contract stream a replay of `subject` lands in; none for wildcards, junk or the DLQ itself. */
function eventStreamOf(subject: string): string | undefined {
  const concrete =
    subject.length > 0 && subject.split('.').every((t) => t.length > 0 && t !== '*' && t !== '>');
  if (!concrete) return undefined;
  try {
    const { name } = streamForSubject(subject);
    return name === DLQ_STREAM ? undefined : name;
  } catch {
    return undefined;
  }
}

/**
 * Operator actions on the DLQ stream. Nothing here leaves state behind: reading uses an ordered
 * (ephemeral) consumer or gets by sequence, never a durable.
 */
export class DeadLetterAdmin {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string = DLQ_STREAM,
  ) {}

  /** Oldest first. */
  async list(options: ListOptions = {}): Promise<ListResult> {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const entries: DeadLetterEntry[] = [];
    // The service is a subject token, so the server filters on it; the original subject is inside
    // the body (the DLQ subject suffix is opaque), so that filter runs here.
    const filter = options.service ? dlqSubject(options.service, '>') : `${DLQ_PREFIX}.>`;
    const consumer = await this.js.consumers.get(this.stream, { filter_subjects: filter });
    let unread = 0;
    try {
      // Read what is there now, not what arrives while we read: a listing must end.
      let left = (await consumer.info(true)).num_pending;
      while (left > 0 && entries.length < limit) {
        const batch = await consumer.fetch({
          max_messages: Math.min(FETCH_BATCH, left),
          expires: FETCH_EXPIRES_MS,
        });
        let got = 0;
        for await (const msg of batch) {
          got++;
          left--;
          const entry = toEntry(msg.seq, msg.subject, msg.time, msg.string());
          if (entries.length < limit && this.matches(entry, options)) entries.push(entry);
          else if (entries.length >= limit) unread++;
        }
        // Fewer than asked: messages were deleted (replayed, dropped, aged out) while we read.
        if (got === 0) break;
      }
      unread += Math.max(0, left);
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return { entries, unread };
  }

  /** The entry at `seq`, or null when the DLQ has no message there. */
  async get(seq: number): Promise<DeadLetterEntry | null> {
    const stored = await this.jsm.streams.getMessage(this.stream, { seq });
    if (!stored) return null;
    return toEntry(stored.seq, stored.subject, stored.time, stored.string());
  }

  /** The entries at these sequences, in the order given; `missing` has the ones the DLQ lacks. */
  async find(seqs: readonly number[]): Promise<{ entries: DeadLetterEntry[]; missing: number[] }> {
    const entries: DeadLetterEntry[] = [];
    const missing: number[] = [];
    for (const seq of seqs) {
      const entry = await this.get(seq);
      if (entry) entries.push(entry);
      else missing.push(seq);
    }
    return { entries, missing };
  }

  /** Entries as `list` returned them; one already gone by now is replayed or skipped safely. */
  async replayEntries(entries: readonly DeadLetterEntry[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    for (const entry of entries) results.push(await this.replayEntry(entry));
    return results;
  }

  async dropEntries(entries: readonly DeadLetterEntry[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    for (const entry of entries) results.push(await this.dropEntry(entry));
    return results;
  }

  private matches(entry: DeadLetterEntry, filter: DeadLetterFilter): boolean {
    if (filter.service && entry.service !== filter.service) return false;
    return !filter.subjectFilter || subjectMatches(filter.subjectFilter, originalSubjectOf(entry));
  }

  /**
   * Publishes the event again under its CloudEvent id, then deletes the dead letter. Each step is
   * safe to repeat: if the delete is lost, the next replay's publish is a duplicate JetStream
   * drops, and the dead letter is deleted then.
   */
  private async replayEntry(entry: DeadLetterEntry): Promise<ActionResult> {
    const fail = (detail: string): ActionResult => ({
      seq: entry.seq,
      outcome: 'failed',
      detail,
      entry,
    });
    const { letter } = entry;
    if (!letter) return fail(`not a dead letter (${entry.problem}); drop it instead`);
    const subject = wireSubject(letter);
    const stream = eventStreamOf(subject);
    if (!stream) {
      return fail(`cannot publish to ${JSON.stringify(subject)}: no event stream captures it`);
    }
    const id = eventIdOf(letter);
    if (!id) {
      return fail(
        'the event has no CloudEvent id to publish it under, so it cannot be replayed safely',
      );
    }
    let ack: { seq: number; duplicate: boolean };
    try {
      ack = await publishWithRetry(this.js, subject, letter.event, id);
    } catch (error) {
      return fail(`publish to ${subject} failed: ${errorMessage(error)}`);
    }
    if (ack.duplicate && ack.seq === letter.streamSeq) {
      // The failed message itself is still in the duplicate window: JetStream dropped the replay,
      // and the consumer that gave up on the original (terminated it) would never see it again.
      return fail(
        `JetStream still remembers event ${id} from its first publish (${stream} seq ${ack.seq}) ` +
          `and dropped the replay as a duplicate; replay again once the stream's duplicate window ` +
          `has passed`,
      );
    }
    const published = ack.duplicate
      ? `already republished to ${subject} (${stream} seq ${ack.seq})`
      : `republished to ${subject} (${stream} seq ${ack.seq})`;
    try {
      await this.deleteMessage(entry.seq);
    } catch (error) {
      return fail(
        `${published}, but the dead letter was not deleted: ${errorMessage(error)}; ` +
          `replaying it again is safe`,
      );
    }
    return { seq: entry.seq, outcome: 'replayed', detail: published, entry };
  }

  private async dropEntry(entry: DeadLetterEntry): Promise<ActionResult> {
    try {
      await this.deleteMessage(entry.seq);
      return { seq: entry.seq, outcome: 'dropped', detail: 'deleted', entry };
    } catch (error) {
      return {
        seq: entry.seq,
        outcome: 'failed',
        detail: `not deleted: ${errorMessage(error)}`,
        entry,
      };
    }
  }

  /** Gone already counts as deleted: another operator (or a repeated run) got there first. */
  private async deleteMessage(seq: number): Promise<void> {
    try {
      await this.jsm.streams.deleteMessage(this.stream, seq);
    } catch (error) {
      // JetStream answers an absent sequence with the same code as any other failed delete.
      if ((await this.jsm.streams.getMessage(this.stream, { seq })) === null) return;
      throw error;
    }
  }
}

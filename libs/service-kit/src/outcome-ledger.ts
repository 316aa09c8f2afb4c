import { EventPublisher } from '@sup/jetstream';
import type { EventData, Subject } from '@sup/contracts';
import { Schema, type Model } from 'mongoose';
import { insertOnce } from './mongo';

/** The event a stage decided to emit for one input, kept so a redelivery re-emits the same decision. */
export interface StageOutcome<S extends Subject = Subject> {
  subject: S;
  data: EventData<S>;
  eventId: string;
  correlationId: string;
}

export interface OutcomeDoc {
  _id: string;
  subject: string;
  data: unknown;
  eventId: string;
  correlationId: string;
  createdAt: Date;
}

export const OUTCOME_MODEL = 'Outcome';
export const OutcomeSchema = new Schema<OutcomeDoc>(
  {
    _id: { type: String, required: true },
    subject: { type: String, required: true },
    data: { type: Schema.Types.Mixed, required: true },
    eventId: { type: String, required: true },
    correlationId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'outcomes', versionKey: false, minimize: false },
);

/**
 * At-least-once processing without transactions: decide once, write the decision, publish it with
 * a deterministic message id, and only then let the caller ack. A crash anywhere replays from the
 * stored decision, so downstream sees the same event (deduplicated by JetStream within its window,
 * and by idempotent handlers after it).
 */
export class OutcomeLedger {
  constructor(
    private readonly model: Model<OutcomeDoc>,
    private readonly publisher: EventPublisher,
  ) {}

  async once(
    key: string,
    decide: () => Promise<StageOutcome>,
  ): Promise<{ outcome: StageOutcome; replayed: boolean }> {
    const existing = await this.model.findById(key).lean().exec();
    let outcome = existing as unknown as StageOutcome | null;
    if (!outcome) {
      const decided = await decide();
      if (!(await insertOnce(this.model, key, { ...decided, createdAt: new Date() }))) {
        // Another replica won the race; its decision is the one that stands.
        outcome = (await this.model.findById(key).lean().exec()) as unknown as StageOutcome | null;
        if (!outcome) throw new Error(`outcome ${key} vanished after upsert`);
      } else {
        outcome = decided;
      }
    }
    await this.publisher.publish(outcome.subject, outcome.data, {
      id: outcome.eventId,
      subject: outcome.correlationId,
    });
    return { outcome, replayed: existing !== null };
  }
}

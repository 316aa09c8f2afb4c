import { EventPublisher } from '@sup/jetstream';
import type { EventData, Subject } from '@sup/contracts';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKeyError } from './mongo';

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
    let stored = await this.model.findById(key).lean().exec();
    const replayed = stored !== null;
    if (!stored) {
      const decided = await decide();
      try {
        await this.model
          .updateOne(
            { _id: key },
            { $setOnInsert: { ...decided, createdAt: new Date() } },
            { upsert: true },
          )
          .exec();
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      // Another replica may have won the race; its decision is the one that stands.
      stored = await this.model.findById(key).lean().exec();
      if (!stored) throw new Error(`outcome ${key} vanished after upsert`);
    }
    const outcome = stored as unknown as StageOutcome;
    await this.publisher.publish(outcome.subject, outcome.data, {
      id: outcome.eventId,
      subject: outcome.correlationId,
    });
    return { outcome, replayed };
  }
}

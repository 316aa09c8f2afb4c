import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { eventId, SUBJECTS, type EventData } from '@sup/contracts';
import { EventPublisher } from '@sup/jetstream';
import { insertOnce } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { IMPORT_MODEL, type ImportRecord } from './schemas';

export type ImportOutcome =
  | { state: 'imported'; event: EventData<typeof SUBJECTS.imported> }
  | { state: 'rejected'; event: EventData<typeof SUBJECTS.rejected> };

/**
 * Ingest's record of every update it has seen. Writing first and announcing second (with a
 * deterministic message id) gives at-least-once delivery without a transaction; `announced`
 * tells a retry whether the announcement may still be missing.
 */
@Injectable()
export class ImportLedger {
  constructor(
    @InjectModel(IMPORT_MODEL) private readonly imports: Model<ImportRecord>,
    private readonly publisher: EventPublisher,
  ) {}

  /** The record for `id`, re-announced first if an earlier attempt crashed before announcing it. */
  async find(id: string): Promise<ImportRecord | null> {
    const record = await this.imports.findById(id).lean().exec();
    if (record && !record.announced) await this.announce(record);
    return record;
  }

  /** Stores the outcome unless one exists (first writer wins) and announces whatever is stored. */
  async record(
    id: string,
    outcome: ImportOutcome,
    origin: { storeKeys: string[]; syncId?: string; importId?: string },
  ): Promise<ImportRecord> {
    const fresh: ImportRecord = {
      _id: id,
      state: outcome.state,
      event: outcome.event,
      storeKeys: origin.storeKeys,
      ...(origin.syncId ? { syncId: origin.syncId } : {}),
      ...(origin.importId ? { importId: origin.importId } : {}),
      announced: false,
      createdAt: new Date(),
    };
    const { _id, ...fields } = fresh;
    const record = (await insertOnce(this.imports, _id, fields))
      ? fresh
      : await this.imports.findById(id).lean().exec();
    if (!record) throw new Error(`import record ${id} vanished after upsert`);
    if (!record.announced) await this.announce(record);
    return record;
  }

  private async announce(record: ImportRecord): Promise<void> {
    if (record.state === 'imported') {
      await this.publisher.publish(
        SUBJECTS.imported,
        record.event as EventData<typeof SUBJECTS.imported>,
        {
          id: eventId(SUBJECTS.imported, record._id),
          subject: record._id,
        },
      );
    } else {
      await this.publisher.publish(
        SUBJECTS.rejected,
        record.event as EventData<typeof SUBJECTS.rejected>,
        {
          id: eventId(SUBJECTS.rejected, record._id),
          subject: record._id,
        },
      );
    }
    await this.imports.updateOne({ _id: record._id }, { $set: { announced: true } }).exec();
  }
}

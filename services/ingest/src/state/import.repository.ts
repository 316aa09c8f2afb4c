import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { EventData, SUBJECTS } from '@sup/contracts';
import { insertManyOnce } from '@sup/service-kit';
import { Schema, type Model } from 'mongoose';

/** Ingest's record of every update it has seen: insert-once by update id, never changed after. */
export interface ImportRecord {
  _id: string;
  state: 'imported' | 'rejected';
  /** The payload of the event that announces this record (imported or rejected). */
  event: EventData<typeof SUBJECTS.imported> | EventData<typeof SUBJECTS.rejected>;
  storeKeys: string[];
  syncId?: string;
  importId?: string;
  createdAt: Date;
}

export const IMPORT_MODEL = 'Import';
export const ImportSchema = new Schema<ImportRecord>(
  {
    _id: String,
    state: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    storeKeys: { type: [String], default: [] },
    syncId: String,
    importId: String,
    createdAt: { type: Date, required: true },
  },
  { collection: 'imports', versionKey: false, minimize: false },
);

/** Persistence of import records; every query is by `_id`. */
@Injectable()
export class ImportRepository {
  constructor(@InjectModel(IMPORT_MODEL) private readonly imports: Model<ImportRecord>) {}

  find(id: string): Promise<ImportRecord | null> {
    return this.imports.findById(id).lean<ImportRecord>().exec();
  }

  /**
   * One unordered bulk insert. Returns the ids that already existed: another sync (or replica)
   * recorded that update first, and its record stands.
   */
  insertNew(records: ImportRecord[]): Promise<Set<string>> {
    return insertManyOnce(this.imports, records);
  }
}

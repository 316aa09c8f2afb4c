import { Schema } from 'mongoose';

/** One computer of the fleet: its latest report (the `fleet` collection, keyed by computer id). */
export interface ComputerDoc {
  _id: string;
  role: string;
  platform: string;
  version: string;
  /** `major.minor` of `version`, for the summary's group-by. */
  line: string;
  relayGroup: string;
  /** The reported map as a list, so the summary can unwind and group it in the database. */
  securityUpdates: { component: string; version: string }[];
  seenAt: Date;
  /** `seenAt` + content digest: a write only ever replaces a document of a lower rank. */
  rank: string;
  receivedAt: Date;
}
export const COMPUTER_MODEL = 'FleetComputer';
export const ComputerSchema = new Schema<ComputerDoc>(
  {
    _id: String,
    role: { type: String, required: true },
    platform: { type: String, required: true },
    version: { type: String, required: true },
    line: { type: String, required: true },
    relayGroup: { type: String, required: true },
    securityUpdates: { type: Schema.Types.Mixed, required: true },
    seenAt: { type: Date, required: true },
    rank: { type: String, required: true },
    receivedAt: { type: Date, required: true },
  },
  { collection: 'fleet', versionKey: false, minimize: false },
)
  .index({ role: 1, platform: 1, line: 1 })
  .index({ relayGroup: 1 })
  .index({ version: 1 });

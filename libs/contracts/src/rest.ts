import { z } from 'zod';
import { AlertSeveritySchema, SignerSchema } from './events';
import { UpdateRelayEntrySchema } from './relay-api';
import { queryInt } from './query';
import { RejectionStageSchema, UpdateKindSchema, UpdateStateSchema } from './update';

/** Deepest page a listing serves: beyond it, narrow the query instead. */
export const MAX_QUERY_OFFSET = 1_000_000;

const paging = {
  limit: queryInt(1, 500).default(50),
  offset: queryInt(0, MAX_QUERY_OFFSET).default(0),
};

export const SyncRequestSchema = z.object({ url: z.string().min(1).max(2048).optional() }).strict();
export type SyncRequest = z.infer<typeof SyncRequestSchema>;

export const SYNC_STATES = ['requested', 'running', 'completed', 'refused', 'failed'] as const;
export const SyncStatusSchema = z.object({
  id: z.string(),
  url: z.string(),
  state: z.enum(SYNC_STATES),
  reason: z.string().optional(),
  feed: z.string().optional(),
  sequence: z.number().optional(),
  imported: z.number().int(),
  unchanged: z.number().int(),
  rejected: z.number().int(),
  /** Entries that could not be fetched after their retries (no verdict on the update). */
  failed: z.number().int(),
  /** Entries not finished yet. */
  pending: z.number().int(),
  total: z.number().int().optional(),
  /** Why entries failed, by their index in the feed (at most 100 are listed). */
  failures: z
    .array(z.object({ index: z.number().int(), code: z.string(), reason: z.string() }))
    .optional(),
  requestedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** The sync ends by this time, completed or failed with the entries still unfinished. */
  deadline: z.string(),
});
export type SyncStatus = z.infer<typeof SyncStatusSchema>;

export const ListUpdatesQuerySchema = z
  .object({
    kind: UpdateKindSchema.optional(),
    component: z.string().max(64).optional(),
    state: UpdateStateSchema.optional(),
    ...paging,
  })
  .strict();
export type ListUpdatesQuery = z.infer<typeof ListUpdatesQuerySchema>;

export const UpdateItemSchema = z.object({
  id: z.string(),
  kind: z.string(),
  component: z.string(),
  platform: z.string().optional(),
  version: z.string(),
  sha256: z.string().optional(),
  size: z.number().optional(),
  state: UpdateStateSchema,
  rejection: z
    .object({ stage: RejectionStageSchema, code: z.string(), reason: z.string() })
    .optional(),
  signer: SignerSchema.optional(),
  updatedAt: z.string(),
});
export type UpdateItem = z.infer<typeof UpdateItemSchema>;

export const UpdateHistoryEntrySchema = z.object({
  eventId: z.string(),
  type: z.string(),
  state: UpdateStateSchema,
  time: z.string(),
  source: z.string(),
});
export const UpdateDetailSchema = UpdateItemSchema.extend({
  history: z.array(UpdateHistoryEntrySchema),
  /** A published update's state at each relay that should have it or reported on it. */
  relays: z.array(UpdateRelayEntrySchema).optional(),
});
export type UpdateDetail = z.infer<typeof UpdateDetailSchema>;

export const UpdateListSchema = z.object({
  items: z.array(UpdateItemSchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const AlertStateSchema = z.enum(['open', 'acknowledged', 'resolved']);
export const AlertSchema = z.object({
  /** Deterministic from rule + subject: one alert per rule and subject. */
  id: z.string(),
  rule: z.string(),
  /** What the rule fired about (an update, a relay, a platform line). */
  subject: z.string(),
  severity: AlertSeveritySchema,
  state: AlertStateSchema,
  summary: z.string(),
  updateId: z.string().optional(),
  details: z.record(z.unknown()),
  /** First sighting (the same instant as `firstSeen`; kept for earlier clients). */
  raisedAt: z.string(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  /** Sightings of the condition, counted once per source event. */
  occurrences: z.number().int().min(1),
  acknowledgedBy: z.string().optional(),
  acknowledgedAt: z.string().optional(),
  resolvedAt: z.string().optional(),
  resolveReason: z.string().optional(),
});
export type Alert = z.infer<typeof AlertSchema>;
export const AlertHistoryEntrySchema = z.object({
  seq: z.number().int().min(1),
  event: z.enum(['raised', 'occurred', 'acknowledged', 'resolved', 'reopened']),
  at: z.string(),
  by: z.string().optional(),
  reason: z.string().optional(),
});
/** One alert with its history (the last 100 transitions). */
export const AlertDetailSchema = AlertSchema.extend({ history: z.array(AlertHistoryEntrySchema) });
export type AlertDetail = z.infer<typeof AlertDetailSchema>;
export const ListAlertsQuerySchema = z
  .object({
    state: AlertStateSchema.optional(),
    severity: AlertSeveritySchema.optional(),
    rule: z.string().max(64).optional(),
    ...paging,
  })
  .strict();
export type ListAlertsQuery = z.infer<typeof ListAlertsQuerySchema>;
/** An alert id as the path names it: `alert_<rule>_<subject token>`. */
export const AlertIdSchema = z.string().regex(/^alert_[A-Za-z0-9_-]{1,190}$/);
export const AlertListSchema = z.object({
  items: z.array(AlertSchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

/** One update of an imported bundle. */
export const ImportedEntrySchema = z.object({
  updateId: z.string(),
  component: z.string(),
  version: z.string(),
  /** Ingest's record: `imported`, or `rejected` when the same update was refused before. */
  state: z.enum(['imported', 'rejected']),
  /** false when the update was recorded before (by a feed sync or an earlier import). */
  created: z.boolean(),
});

/** The answer to `POST /v1/imports`: the bundle's id and what became of each entry it carried. */
export const ImportAcceptedSchema = z.object({
  id: z.string(),
  feed: z.string(),
  sequence: z.number().int(),
  entries: z.array(ImportedEntrySchema),
});

/** Every error body the REST API returns. */
export const ErrorBodySchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  details: z.array(z.string()).optional(),
  /** A machine-readable reason where an operation names one (e.g. `withdrawn`, `unknown-group`). */
  code: z.string().optional(),
});

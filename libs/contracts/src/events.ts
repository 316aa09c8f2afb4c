import { z } from 'zod';
import { AuditActionSchema } from './audit';
import { ActorSchema } from './auth';
import { FleetReportedSchema } from './fleet';
import { UpdateRelayedSchema, UpdateRelayFailedSchema, UpdateWithdrawnSchema } from './relays';
import { RolloutChangedSchema } from './rollouts';
import { SUBJECTS, type Subject } from './subjects';
import {
  PlatformSchema,
  RejectionStageSchema,
  Sha256HexSchema,
  UpdateIdSchema,
  UpdateKindSchema,
} from './update';

const Timestamp = z.string().datetime({ offset: true });

export const UpdateSourceSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('feed'),
    feed: z.string(),
    sequence: z.number().int().nonnegative(),
    url: z.string(),
    syncId: z.string(),
  }),
  z.object({
    type: z.literal('manual'),
    importId: z.string(),
    /** Who uploaded it (absent on events from before imports were authenticated). */
    importedBy: ActorSchema.optional(),
  }),
]);

/** What every update event carries, so a subscriber never needs to look anything up. */
export const UpdateDescriptorSchema = z.object({
  updateId: UpdateIdSchema,
  kind: UpdateKindSchema,
  component: z.string(),
  platform: PlatformSchema.optional(),
  version: z.string(),
  releasedAt: Timestamp.optional(),
  minManagerVersion: z.string().optional(),
  notesUrl: z.string().optional(),
  source: UpdateSourceSchema,
  artifact: z.object({
    path: z.string(),
    /** Size and SHA-256 as the vendor published them. */
    size: z.number().int().nonnegative(),
    sha256: Sha256HexSchema,
    /** Key of the stored bytes in the artifact store (the SHA-256 ingest measured while storing). */
    storeKey: Sha256HexSchema,
  }),
  signature: z.object({
    path: z.string(),
    format: z.literal('cms-detached-der'),
    storeKey: Sha256HexSchema,
  }),
});
export type UpdateDescriptor = z.infer<typeof UpdateDescriptorSchema>;

export const UpdateImportedSchema = z.object({
  update: UpdateDescriptorSchema,
  importedAt: Timestamp,
});

export const UpdateChecksumVerifiedSchema = z.object({
  update: UpdateDescriptorSchema,
  computedSha256: Sha256HexSchema,
  computedSize: z.number().int().nonnegative(),
  verifiedAt: Timestamp,
});

export const SignerSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  sha256Fingerprint: Sha256HexSchema,
  notBefore: Timestamp,
  notAfter: Timestamp,
});
export type Signer = z.infer<typeof SignerSchema>;

export const UpdateValidatedSchema = z.object({
  update: UpdateDescriptorSchema,
  signer: SignerSchema,
  signatureAlgorithm: z.enum(['rsa-pkcs1-v1_5', 'rsa-pss', 'ecdsa']),
  digestAlgorithm: z.enum(['sha256', 'sha384', 'sha512']),
  signedAttributes: z.boolean(),
  validatedAt: Timestamp,
});

export const UpdatePublishedSchema = z.object({
  update: UpdateDescriptorSchema,
  publishedAt: Timestamp,
});

/** A rejection names what is known of the update: the full descriptor, or for a bad feed entry, its raw labels. */
export const UpdateRejectedSchema = z.object({
  updateId: UpdateIdSchema,
  stage: RejectionStageSchema,
  code: z.string().regex(/^[a-z0-9-]+$/),
  reason: z.string().min(1),
  file: z.string().optional(),
  update: UpdateDescriptorSchema.optional(),
  entry: z
    .object({
      kind: z.string().optional(),
      component: z.string().optional(),
      platform: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  source: UpdateSourceSchema.optional(),
  rejectedAt: Timestamp,
});

export const AlertSeveritySchema = z.enum(['info', 'warning', 'critical']);
export const AlertRaisedSchema = z.object({
  alertId: z.string().min(1),
  rule: z.string().regex(/^[a-z0-9-]+$/),
  severity: AlertSeveritySchema,
  summary: z.string().min(1),
  updateId: UpdateIdSchema.optional(),
  details: z.record(z.unknown()),
  raisedAt: Timestamp,
  /** What the rule fired about; the alert is one per rule + subject. */
  subject: z.string().min(1).max(512).optional(),
  /** Sightings so far (above 1 when a resolved alert reopens). */
  occurrences: z.number().int().min(1).optional(),
  /** `raised` the first time, `reopened` when a resolved alert's condition holds again. */
  transition: z.enum(['raised', 'reopened']).optional(),
});

export const AlertResolvedSchema = z.object({
  alertId: z.string().min(1),
  rule: z.string(),
  reason: z.string(),
  resolvedAt: Timestamp,
});

/** An operator acknowledged an alert (`POST /v1/alerts/{id}/ack`). */
export const AlertAcknowledgedSchema = z.object({
  alertId: z.string().min(1),
  rule: z.string(),
  /** Token name or OIDC subject of the operator. */
  by: z.string().min(1).max(256),
  acknowledgedAt: Timestamp,
});

const SyncIdSchema = z.string().regex(/^sync_[0-9a-f]{24}$/);

export const SyncRequestedSchema = z.object({
  syncId: SyncIdSchema,
  url: z.string().min(1),
  requestedAt: Timestamp,
  /** Who asked for it: an operator, or `system` for the scheduler. */
  requestedBy: ActorSchema.optional(),
});

/**
 * How a sync ended, announced once per sync by ingest (its sweeper, after the sync's record
 * reached a final state). `scheduled`: the scheduler asked for it (FEED_SYNC_INTERVAL_S), not an
 * operator. Counts are of the index's entries.
 */
export const SyncFinishedSchema = z.object({
  syncId: SyncIdSchema,
  url: z.string().min(1),
  state: z.enum(['completed', 'refused', 'failed']),
  reason: z.string().max(2_000).optional(),
  scheduled: z.boolean(),
  feed: z.string().optional(),
  requestedAt: Timestamp,
  finishedAt: Timestamp,
  entries: z.object({
    total: z.number().int().nonnegative(),
    imported: z.number().int().nonnegative(),
    unchanged: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
});

/**
 * One entry of a verified feed index, as work for whichever ingest replica takes it. The index was
 * verified once by the replica that fanned the sync out; the entry is carried verbatim (it is
 * validated on its own when imported, so one bad entry rejects only itself).
 */
export const EntryRequestedSchema = z.object({
  syncId: SyncIdSchema,
  index: z.number().int().nonnegative().max(9_999),
  total: z.number().int().positive().max(10_000),
  feed: z.string().min(1),
  sequence: z.number().int().nonnegative(),
  /** The feed's base URL (the index's directory), the one the sync verified. */
  url: z.string().min(1),
  entry: z.record(z.unknown()),
  /** The sync's overall deadline: past it the entry is recorded as failed, not fetched. */
  deadline: Timestamp,
});

/** The subject token of an entry's work message: `<syncId>-<index>`. */
export const entryWorkId = (syncId: string, index: number): string => `${syncId}-${index}`;

export const EVENT_SCHEMAS = {
  [SUBJECTS.imported]: UpdateImportedSchema,
  [SUBJECTS.checksumVerified]: UpdateChecksumVerifiedSchema,
  [SUBJECTS.validated]: UpdateValidatedSchema,
  [SUBJECTS.published]: UpdatePublishedSchema,
  [SUBJECTS.rejected]: UpdateRejectedSchema,
  [SUBJECTS.alertRaised]: AlertRaisedSchema,
  [SUBJECTS.alertResolved]: AlertResolvedSchema,
  [SUBJECTS.alertAcknowledged]: AlertAcknowledgedSchema,
  [SUBJECTS.syncRequested]: SyncRequestedSchema,
  [SUBJECTS.entryRequested]: EntryRequestedSchema,
  [SUBJECTS.syncFinished]: SyncFinishedSchema,
  [SUBJECTS.auditAction]: AuditActionSchema,
  [SUBJECTS.fleetReported]: FleetReportedSchema,
  [SUBJECTS.relayed]: UpdateRelayedSchema,
  [SUBJECTS.relayFailed]: UpdateRelayFailedSchema,
  [SUBJECTS.withdrawn]: UpdateWithdrawnSchema,
  [SUBJECTS.rolloutChanged]: RolloutChangedSchema,
} as const satisfies Record<Subject, z.ZodTypeAny>;

export type EventData<S extends Subject> = z.infer<(typeof EVENT_SCHEMAS)[S]>;
export type EventMap = { [S in Subject]: EventData<S> };

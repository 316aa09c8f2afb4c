import { z } from 'zod';
import { ActorSchema } from './auth';
import { queryInt } from './query';
import { SUBJECTS } from './subjects';

/**
 * The audit log's wire contracts. Operator actions travel as CloudEvents on
 * `audit.v1.action.<action id>` (stream `AUDIT`), because the streams operators act through are
 * not readable by a second consumer (`FEEDS` is a work queue). The `audit` service appends every
 * action and every update verdict to the hash chain in stream `AUDIT_CHAIN`.
 */
export const AUDIT_ACTION_SUBJECT = SUBJECTS.auditAction;
export const AUDIT_CHAIN_RECORD_SUBJECT = 'audit.v1.chain.record';
export const AUDIT_CHAIN_CHECKPOINT_SUBJECT = 'audit.v1.chain.checkpoint';
export const AUDIT_STREAM = 'AUDIT';
export const AUDIT_CHAIN_STREAM = 'AUDIT_CHAIN';

const Timestamp = z.string().datetime({ offset: true });
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** What an operator did, e.g. `feed-sync-requested`, `import-uploaded`. */
export const AuditActionNameSchema = z.string().regex(/^[a-z0-9-]{1,64}$/);

export const AuditActionSchema = z.object({
  action: AuditActionNameSchema,
  actor: ActorSchema,
  /** What it was done to: a sync id, an import id, a route. */
  target: z.string().min(1).max(1_024),
  outcome: z.enum(['accepted', 'refused']),
  reason: z.string().max(2_000).optional(),
  at: Timestamp,
});
export type AuditAction = z.infer<typeof AuditActionSchema>;

/** The event a record was made from. */
export const AuditSourceSchema = z.object({
  /** CloudEvent id: the record's `Nats-Msg-Id` is `audit:<id>`. */
  id: z.string().min(1).max(256),
  type: z.string().min(1).max(256),
  /** The wire subject it arrived on. */
  subject: z.string().min(1).max(512),
  time: Timestamp,
});

/** The few facts of a verdict or action an auditor reads without fetching the source event. */
export const AuditSummarySchema = z.record(
  z.string(),
  z.union([z.string().max(2_000), z.number(), z.boolean()]),
);

export const AuditCheckpointSchema = z.object({
  /** The record this checkpoint anchors: the one just before it. */
  headSeq: z.number().int().nonnegative(),
  headHash: Sha256Hex,
  /** SHA-256 of the signing key's SubjectPublicKeyInfo (DER), hex. */
  keyId: Sha256Hex,
  /** Ed25519 over the checkpoint's signed text, base64. */
  signature: z.string().min(1).max(200),
});
export type AuditCheckpoint = z.infer<typeof AuditCheckpointSchema>;

export const AUDIT_RECORD_KINDS = ['verdict', 'action', 'checkpoint'] as const;

/**
 * One link of the chain. `seq` is the record's stream sequence in `AUDIT_CHAIN` (appends are a
 * compare-and-set on the stream's last sequence), `prevHash` the previous record's `hash`
 * (64 zeros for the first), and `hash` the SHA-256 of the canonical JSON of every other field.
 */
export const AuditRecordSchema = z
  .object({
    v: z.literal(1),
    seq: z.number().int().min(1),
    prevHash: Sha256Hex,
    /** When it was appended. */
    at: Timestamp,
    kind: z.enum(AUDIT_RECORD_KINDS),
    source: AuditSourceSchema.optional(),
    actor: ActorSchema.optional(),
    summary: AuditSummarySchema.optional(),
    checkpoint: AuditCheckpointSchema.optional(),
    hash: Sha256Hex,
  })
  .strict();
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const ListAuditQuerySchema = z
  .object({
    /** Records with a sequence above this one (0: from the start). */
    after: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
    limit: queryInt(1, 500).default(100),
  })
  .strict();
export type ListAuditQuery = z.infer<typeof ListAuditQuerySchema>;

export const AuditPageSchema = z.object({
  /** Records in sequence order; a sequence with no record (deleted) is listed as `missing`. */
  items: z.array(
    z.union([
      z.object({ seq: z.number().int(), record: AuditRecordSchema }),
      z.object({ seq: z.number().int(), missing: z.literal(true) }),
      z.object({ seq: z.number().int(), malformed: z.string() }),
    ]),
  ),
  /** The chain's last sequence when the page was read. */
  lastSeq: z.number().int(),
  /** `after` for the next page; absent at the end of the chain. */
  next: z.number().int().optional(),
});
export type AuditPage = z.infer<typeof AuditPageSchema>;

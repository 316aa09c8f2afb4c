import { z } from 'zod';
import { RelayFailureCodeSchema, RelayGroupNameSchema } from './relays';
import { PlatformSchema, Sha256HexSchema, UpdateIdSchema, UpdateKindSchema } from './update';

/**
 * REST shapes of the relays' control plane (distribution): relay groups, relays and their
 * per-update state, relays' results, a group's catalog with signed provenance, and rollback of a
 * security component. Events stay in relays.ts.
 */

const Timestamp = z.string().datetime({ offset: true });

export const RelayUpdateStateSchema = z.enum(['pending', 'relayed', 'failed']);

/** One relay's state for one update (`relays` of `GET /v1/updates/{id}`). */
export const UpdateRelayEntrySchema = z.object({
  relayId: z.string(),
  state: RelayUpdateStateSchema,
  /** When it entered that state (for `pending`: when the update was published, if known). */
  at: z.string().optional(),
});
export type UpdateRelayEntry = z.infer<typeof UpdateRelayEntrySchema>;

/** `POST /v1/relays/{relayId}/results`: what a relay verified and kept, or failed to. */
export const RelayResultSchema = z
  .object({
    updateId: UpdateIdSchema,
    state: z.enum(['relayed', 'failed']),
    /** Required for `relayed`: the SHA-256 the relay computed over what it keeps. */
    sha256: Sha256HexSchema.optional(),
    /** Required for `failed`. */
    code: RelayFailureCodeSchema.optional(),
    reason: z.string().min(1).max(2_000).optional(),
    /** The relay's count of failures for this update (default 1); each is its own event. */
    attempt: z.number().int().min(1).max(1_000_000).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.state === 'relayed' && !r.sha256)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['sha256'],
        message: 'required for relayed',
      });
    if (r.state === 'failed' && (!r.code || !r.reason))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['code'],
        message: 'code and reason are required for failed',
      });
  });
export type RelayResult = z.infer<typeof RelayResultSchema>;

export const RelayResultsBodySchema = z
  .object({ results: z.array(RelayResultSchema).min(1).max(100) })
  .strict();
export type RelayResultsBody = z.infer<typeof RelayResultsBodySchema>;

export const RelayResultsAcceptedSchema = z.object({
  /** Results stored as new events. */
  accepted: z.number().int().nonnegative(),
  /** Results already on the stream (`relayed` is once per relay and update). */
  duplicates: z.number().int().nonnegative(),
});
export type RelayResultsAccepted = z.infer<typeof RelayResultsAcceptedSchema>;

export const CreateRelayGroupSchema = z
  .object({ name: RelayGroupNameSchema, description: z.string().max(500).optional() })
  .strict();
export type CreateRelayGroup = z.infer<typeof CreateRelayGroupSchema>;

export const RelayGroupSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  createdAt: z.string(),
  /** Who made it: a token name, an OIDC subject, or `relay:<id>` for a group named by a report. */
  createdBy: z.string(),
});
export type RelayGroup = z.infer<typeof RelayGroupSchema>;
export const RelayGroupListSchema = z.object({ items: z.array(RelayGroupSchema) });

export const AssignRelayGroupSchema = z.object({ group: RelayGroupNameSchema }).strict();

/** One relay as the control plane sees it. */
export const RelayViewSchema = z.object({
  relayId: z.string(),
  /** Its effective group: the operator's assignment, else what the relay reports. */
  group: z.string(),
  reportedGroup: z.string().optional(),
  assignedGroup: z.string().optional(),
  url: z.string().optional(),
  version: z.string().optional(),
  platform: z.string().optional(),
  lastSeen: z.string().optional(),
  holds: z.number().int().nonnegative(),
  merkleRoot: z.string().optional(),
  /** Merkle root over the digests of what its group must hold (see drift). */
  expectedMerkleRoot: z.string(),
  cacheBytes: z.number().optional(),
  cacheMaxBytes: z.number().optional(),
  /** Required updates it neither holds nor relayed. */
  pending: z.number().int().nonnegative(),
  inSync: z.boolean(),
  /** Required digests not held, and held digests the catalog does not offer (unknown, withdrawn). */
  drift: z.object({ missing: z.array(z.string()), extra: z.array(z.string()) }),
  drifted: z.boolean(),
});
export type RelayView = z.infer<typeof RelayViewSchema>;
export const RelayListSchema = z.object({ items: z.array(RelayViewSchema), total: z.number() });

export const RelaySummarySchema = z.object({
  relays: z.number().int().nonnegative(),
  inSync: z.number().int().nonnegative(),
  allInSync: z.boolean(),
  /** Sum of pending (update, relay) pairs. */
  pending: z.number().int().nonnegative(),
});
export type RelaySummary = z.infer<typeof RelaySummarySchema>;

export const ProvenanceRecordSchema = z.object({
  updateId: UpdateIdSchema,
  sha256: Sha256HexSchema,
  size: z.number().int().nonnegative(),
  signer: z.object({ subject: z.string(), sha256Fingerprint: Sha256HexSchema }),
  checks: z.array(z.object({ name: z.string(), passedAt: Timestamp })),
  issuedAt: Timestamp,
});
export const ProvenanceSchema = z.object({
  record: ProvenanceRecordSchema,
  /** Base64 Ed25519 over the canonical JSON of `record` (sorted keys, no whitespace). */
  signature: z.string(),
  keyId: Sha256HexSchema,
});

export const GroupCatalogEntrySchema = z.object({
  updateId: UpdateIdSchema,
  kind: UpdateKindSchema,
  component: z.string(),
  platform: PlatformSchema.optional(),
  version: z.string(),
  sha256: Sha256HexSchema,
  size: z.number().int().nonnegative(),
  /** `/v1/updates/{id}/artifact`, relative to the control plane's base. */
  artifactPath: z.string(),
  signaturePath: z.string(),
  /** SHA-256 of the detached CMS signature file. */
  signatureSha256: Sha256HexSchema,
  /** Must be held: the current security update of its component, or a build the group's rollouts target. */
  required: z.boolean(),
  provenance: ProvenanceSchema,
});
export type GroupCatalogEntry = z.infer<typeof GroupCatalogEntrySchema>;
export const GroupCatalogSchema = z.object({
  group: z.string(),
  entries: z.array(GroupCatalogEntrySchema),
});
export type GroupCatalog = z.infer<typeof GroupCatalogSchema>;

export const ProvenanceKeySchema = z.object({
  keyId: Sha256HexSchema,
  algorithm: z.literal('Ed25519'),
  publicKeyPem: z.string(),
});
export type ProvenanceKey = z.infer<typeof ProvenanceKeySchema>;

/** `POST /v1/updates/{id}/apply`: the component's current update afterwards. */
export const SecurityApplyResultSchema = z.object({
  component: z.string(),
  updateId: UpdateIdSchema,
  version: z.string(),
  /** true: held at this update (a rollback) until the newest is applied again. */
  pinned: z.boolean(),
});
export type SecurityApplyResult = z.infer<typeof SecurityApplyResultSchema>;

import { z } from 'zod';
import { Sha256HexSchema, UpdateIdSchema } from './update';

/**
 * Relays: the last hop. A relay (services/relay, one per site) takes each published update its
 * group should have from its own durable consumer, downloads the bytes from the control plane
 * (distribution), re-verifies SHA-256 and the CMS signature against its own trust anchors, keeps
 * them in its cache and serves agents. It tells the control plane what it relayed over REST with
 * its `relay` token (`POST /v1/relays/{relayId}/results`), so the relay id on every
 * `updates.v1.relayed` event is the one its credential names; distribution publishes the events.
 */

/** A relay group name (also a subject token and a Mongo `_id`). */
export const RelayGroupNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"');
export type RelayGroupName = z.infer<typeof RelayGroupNameSchema>;

/** A relay id is a computer id (its fleet reports carry it) and the name of its `relay` token. */
export const RelayIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1 to 128 letters, digits, "_" or "-"');

const Timestamp = z.string().datetime({ offset: true });

/** The subject token of one relay's result for one update: `<updateId>-<relayId>`. */
export const relayResultEntityId = (updateId: string, relayId: string): string =>
  `${updateId}-${relayId}`;

/** `updates.v1.relayed.<updateId>-<relayId>`: the relay verified and cached the update. Once per pair. */
export const UpdateRelayedSchema = z.object({
  updateId: UpdateIdSchema,
  relayId: RelayIdSchema,
  relayGroup: RelayGroupNameSchema,
  /** The SHA-256 the relay computed over the bytes it keeps. */
  sha256: Sha256HexSchema,
  relayedAt: Timestamp,
});
export type UpdateRelayed = z.infer<typeof UpdateRelayedSchema>;

/** Why a relay refused or could not keep an update. */
export const RELAY_FAILURE_CODES = [
  'digest-mismatch',
  'size-mismatch',
  'signature-invalid',
  'download-failed',
  'cache-full',
] as const;
export const RelayFailureCodeSchema = z.enum(RELAY_FAILURE_CODES);

/**
 * `updates.v1.relay-failed.<updateId>-<relayId>-<attempt>`: a relay kept nothing of the update.
 * A later success still publishes `relayed`; each failure is its own event (the attempt number is
 * the relay's count of failures for that update).
 */
export const UpdateRelayFailedSchema = z.object({
  updateId: UpdateIdSchema,
  relayId: RelayIdSchema,
  relayGroup: RelayGroupNameSchema,
  code: RelayFailureCodeSchema,
  reason: z.string().min(1).max(2_000),
  attempt: z.number().int().min(1).max(1_000_000),
  failedAt: Timestamp,
});
export type UpdateRelayFailed = z.infer<typeof UpdateRelayFailedSchema>;

/**
 * `updates.v1.withdrawn.<updateId>`: the control plane re-hashed a published update's bytes as
 * they left the artifact store and they no longer match; it is no longer offered to relays.
 */
export const UpdateWithdrawnSchema = z.object({
  updateId: UpdateIdSchema,
  code: z.enum(['stored-digest-mismatch', 'operator']),
  reason: z.string().min(1).max(2_000),
  expectedSha256: Sha256HexSchema,
  computedSha256: Sha256HexSchema.optional(),
  withdrawnAt: Timestamp,
});
export type UpdateWithdrawn = z.infer<typeof UpdateWithdrawnSchema>;

/** What a relay says about itself in its fleet report (`report.relay`). */
export const RelayStatusSchema = z
  .object({
    /** Base URL agents reach this relay's API on, e.g. `http://relay-a.example:8090/v1`. */
    url: z.string().url().max(2_048),
    /** Digests it holds, verified (bounded: a relay keeps at most this many files). */
    holds: z.array(Sha256HexSchema).max(4_096),
    /** Merkle root over the sorted digests in `holds` (see libs/domain merkleRoot). */
    merkleRoot: Sha256HexSchema,
    cacheBytes: z.number().int().nonnegative(),
    cacheMaxBytes: z.number().int().nonnegative(),
  })
  .strict();
export type RelayStatus = z.infer<typeof RelayStatusSchema>;

/** What an agent says about its last install (`report.install`), for rollouts. */
export const InstallStatusSchema = z
  .object({
    updateId: UpdateIdSchema,
    state: z.enum(['downloading', 'installing', 'installed', 'failed']),
    reason: z.string().max(1_000).optional(),
    at: Timestamp,
    rolloutId: z.string().max(64).optional(),
  })
  .strict();
export type InstallStatus = z.infer<typeof InstallStatusSchema>;

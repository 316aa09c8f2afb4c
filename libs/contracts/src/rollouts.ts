import { z } from 'zod';
import { ActorSchema } from './auth';

/**
 * Rollouts of agent and relay builds, in waves (hawkBit's model): a target build for a set of
 * agents, a success threshold that starts the next wave, an error threshold that halts the
 * rollout. Relays go first: a wave starts only when every relay serving its agents has relayed
 * the target build. REST shapes live beside these events (added with the rollouts API).
 */

export const RolloutIdSchema = z
  .string()
  .regex(/^rol_[0-9a-f]{24}$/, 'must look like rol_<24 hex>');

export const ROLLOUT_STATES = [
  'waiting-for-relays',
  'running',
  'paused',
  'halted',
  'cancelled',
  'completed',
] as const;
export const RolloutStateSchema = z.enum(ROLLOUT_STATES);
export type RolloutState = z.infer<typeof RolloutStateSchema>;

export const ROLLOUT_CHANGES = [
  'created',
  'relays-pending',
  'wave-started',
  'wave-succeeded',
  'paused',
  'resumed',
  'halted',
  'cancelled',
  'completed',
] as const;
export const RolloutChangeSchema = z.enum(ROLLOUT_CHANGES);

/** The subject token of one change: `<rolloutId>-<revision>` (each revision published once). */
export const rolloutChangeEntityId = (rolloutId: string, revision: number): string =>
  `${rolloutId}-${revision}`;

/** `rollouts.v1.changed.<rolloutId>-<revision>`: every change of a rollout, in order. */
export const RolloutChangedSchema = z.object({
  rolloutId: RolloutIdSchema,
  /** Grows by one per change; the compare-and-set revision of the rollout's state. */
  revision: z.number().int().min(1),
  change: RolloutChangeSchema,
  state: RolloutStateSchema,
  /** The wave the rollout is in (0-based), or the one that just finished. */
  wave: z.number().int().min(0),
  updateId: z.string(),
  /** Relays the rollout waits for before the wave can start (`relays-pending`). */
  waitingForRelays: z.array(z.string()).max(1_000).optional(),
  reason: z.string().max(2_000).optional(),
  by: ActorSchema.optional(),
  at: z.string().datetime({ offset: true }),
});
export type RolloutChanged = z.infer<typeof RolloutChangedSchema>;

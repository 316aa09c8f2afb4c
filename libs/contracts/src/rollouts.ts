import { z } from 'zod';
import { ActorSchema } from './auth';
import { PlatformSchema, Sha256HexSchema, UpdateIdSchema } from './update';

const Timestamp = z.string().datetime({ offset: true });

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

// ---- REST: agent version control, rollouts and agent assignments ----

/**
 * Agent version control per platform: which agent build agents of that platform upgrade to.
 * `latest`: the newest published agent build; `pinned`: one published build (`updateId`);
 * `lag`: the newest build of the `major.minor` line `lag` lines behind the newest line (n-1, n-2).
 */
export const VERSION_CONTROL_POLICIES = ['latest', 'pinned', 'lag'] as const;
export const VersionControlPolicySchema = z.enum(VERSION_CONTROL_POLICIES);
export type VersionControlPolicy = z.infer<typeof VersionControlPolicySchema>;

export const PutVersionControlBodySchema = z
  .object({
    policy: VersionControlPolicySchema,
    updateId: UpdateIdSchema.optional(),
    lag: z.union([z.literal(1), z.literal(2)]).optional(),
  })
  .strict()
  .refine((b) => (b.policy === 'pinned') === (b.updateId !== undefined), {
    message: 'updateId is required with policy "pinned" and only then',
    path: ['updateId'],
  })
  .refine((b) => (b.policy === 'lag') === (b.lag !== undefined), {
    message: 'lag (1 or 2) is required with policy "lag" and only then',
    path: ['lag'],
  });
export type PutVersionControlBody = z.infer<typeof PutVersionControlBodySchema>;

/** The build a policy resolves to now (absent when none qualifies, e.g. n-2 with two lines). */
export const ResolvedBuildSchema = z.object({
  updateId: UpdateIdSchema,
  version: z.string(),
  sha256: Sha256HexSchema,
  size: z.number().int().nonnegative(),
});
export type ResolvedBuild = z.infer<typeof ResolvedBuildSchema>;

export const VersionControlEntrySchema = z.object({
  platform: PlatformSchema,
  policy: VersionControlPolicySchema,
  updateId: UpdateIdSchema.optional(),
  lag: z.number().int().optional(),
  /** What agents of the platform upgrade to under this policy now. */
  resolved: ResolvedBuildSchema.optional(),
  /** Why nothing resolved (`no-published-build`, `not-enough-lines`). */
  unresolved: z.string().optional(),
  setBy: z.string().optional(),
  setAt: Timestamp.optional(),
});
export type VersionControlEntry = z.infer<typeof VersionControlEntrySchema>;

export const VersionControlListSchema = z.object({ items: z.array(VersionControlEntrySchema) });

export const RELAY_POLICIES = ['refuse', 'upgrade-relays-first'] as const;
export const RelayPolicySchema = z.enum(RELAY_POLICIES);
export type RelayPolicy = z.infer<typeof RelayPolicySchema>;

/** Agents one rollout may hold (its membership is fixed at creation from the fleet read model). */
export const MAX_ROLLOUT_AGENTS = 10_000;
export const MAX_WAVES = 20;
/** Rollouts that are not finished (cancelled or completed) at once, over every platform. */
export const MAX_ACTIVE_ROLLOUTS = 100;

const GroupName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a relay group name');
const AgentId = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be a computer id');

export const RolloutTargetSchema = z
  .object({
    /** One relay group's agents; absent: every group's. */
    group: GroupName.optional(),
    platform: PlatformSchema,
    /** Only these agents (still filtered by platform and group). */
    agentIds: z.array(AgentId).min(1).max(1_000).optional(),
  })
  .strict();
export type RolloutTarget = z.infer<typeof RolloutTargetSchema>;

const Percent = z.number().int().min(1).max(100);

export const CreateRolloutBodySchema = z
  .object({
    updateId: UpdateIdSchema,
    target: RolloutTargetSchema,
    /** Cumulative percentages of the target agents, rising, ending at 100 (e.g. [10, 40, 100]). */
    waves: z.array(Percent).min(1).max(MAX_WAVES).optional(),
    /** Or: waves of this many agents each. */
    waveSize: z.number().int().min(1).max(MAX_ROLLOUT_AGENTS).optional(),
    /** Percent of a wave's agents that must report the target version before the next starts. */
    successThreshold: Percent,
    /** Percent of a wave's agents whose install failed that halts the rollout. */
    errorThreshold: Percent,
    relayPolicy: RelayPolicySchema.default('refuse'),
  })
  .strict()
  .refine((b) => (b.waves === undefined) !== (b.waveSize === undefined), {
    message: 'give either waves (cumulative percentages) or waveSize',
    path: ['waves'],
  })
  .refine((b) => !b.waves || b.waves.every((p, i) => i === 0 || p > b.waves![i - 1]), {
    message: 'wave percentages must rise',
    path: ['waves'],
  })
  .refine((b) => !b.waves || b.waves[b.waves.length - 1] === 100, {
    message: 'the last wave must reach 100',
    path: ['waves'],
  });
export type CreateRolloutBody = z.infer<typeof CreateRolloutBodySchema>;

export const RolloutWaveSchema = z.object({
  index: z.number().int().min(0),
  /** `relays`: the relays serving the target agents upgrade first; `agents`: a wave of agents. */
  kind: z.enum(['relays', 'agents']),
  size: z.number().int().min(0),
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  startedAt: Timestamp.optional(),
  finishedAt: Timestamp.optional(),
});

export const RolloutHistoryEntrySchema = z.object({
  revision: z.number().int().min(1),
  change: RolloutChangeSchema,
  state: RolloutStateSchema,
  wave: z.number().int().min(0),
  waitingForRelays: z.array(z.string()).optional(),
  reason: z.string().optional(),
  by: z.string().optional(),
  at: Timestamp,
});

export const RolloutSchema = z.object({
  id: RolloutIdSchema,
  updateId: UpdateIdSchema,
  version: z.string(),
  target: RolloutTargetSchema,
  /** The relay groups the target agents are in (their relays must hold the build first). */
  groups: z.array(z.string()),
  successThreshold: z.number().int(),
  errorThreshold: z.number().int(),
  relayPolicy: RelayPolicySchema,
  state: RolloutStateSchema,
  /** The current wave (0-based). */
  wave: z.number().int().min(0),
  waves: z.array(RolloutWaveSchema),
  waitingForRelays: z.array(z.string()),
  agents: z.number().int(),
  revision: z.number().int(),
  createdBy: z.string(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  history: z.array(RolloutHistoryEntrySchema),
});
export type Rollout = z.infer<typeof RolloutSchema>;

export const RolloutListSchema = z.object({
  items: z.array(RolloutSchema.omit({ history: true })),
});

/** `GET /v1/agents/{agentId}/assignment` query: a new agent's facts before its first report lands. */
export const AssignmentQuerySchema = z
  .object({
    platform: PlatformSchema.optional(),
    group: GroupName.optional(),
    version: z.string().min(1).max(64).optional(),
  })
  .strict();
export type AssignmentQuery = z.infer<typeof AssignmentQuerySchema>;

export const AgentAssignmentSchema = z.object({
  agentId: AgentId,
  /** Relay base URLs of the agent's group, shuffled; relays not seen lately come last. */
  relays: z.array(z.string()),
  /** The control plane's base URL, for when no relay answers. */
  fallback: z.string(),
  software: ResolvedBuildSchema.extend({ rolloutId: RolloutIdSchema.optional() }).optional(),
  security: z.array(
    z.object({
      component: z.string(),
      updateId: UpdateIdSchema,
      version: z.string(),
      sha256: Sha256HexSchema,
      size: z.number().int().nonnegative(),
    }),
  ),
});
export type AgentAssignment = z.infer<typeof AgentAssignmentSchema>;

import { z } from 'zod';

/**
 * Roles of people, ordered: each includes the rights of those before it. Machine roles (for
 * agents and relays) are deliberately outside this order: they get exactly the routes that name
 * them, never an operator's.
 */
export const HUMAN_ROLES = ['viewer', 'operator', 'admin'] as const;
export const MACHINE_ROLES = ['agent', 'relay'] as const;
export const ROLES = [...HUMAN_ROLES, ...MACHINE_ROLES] as const;
export type HumanRole = (typeof HUMAN_ROLES)[number];
export type MachineRole = (typeof MACHINE_ROLES)[number];
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

/**
 * Who did something: a named API token, an OIDC subject, or the pipeline itself (a scheduled
 * sync). Carried by operator-triggered events and the audit log, so every action is attributed.
 */
export const ActorSchema = z.object({
  type: z.enum(['token', 'oidc', 'system']),
  /** Token name, OIDC subject, or the service name for `system`. */
  name: z.string().min(1).max(256),
  role: RoleSchema.optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

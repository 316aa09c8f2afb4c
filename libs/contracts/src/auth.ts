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

const rank = (role: Role): number => HUMAN_ROLES.indexOf(role as HumanRole);

/**
 * Whether `role` may use a route that names `allowed`. A human role named on a route admits every
 * human role above it (viewer < operator < admin); a machine role admits only itself, and no
 * human role admits a machine, so an agent's token never reaches an operator's route.
 */
export function roleAllows(role: Role, allowed: readonly Role[]): boolean {
  if (allowed.includes(role)) return true;
  const mine = rank(role);
  return mine >= 0 && allowed.some((r) => rank(r) >= 0 && rank(r) <= mine);
}

/** Human-readable requirement for error bodies and the OpenAPI document: "operator or higher". */
export function describeRoles(allowed: readonly Role[]): string {
  const human = allowed.filter((r) => rank(r) >= 0).sort((a, b) => rank(a) - rank(b));
  const lowest = human[0];
  const parts = [
    ...(lowest ? [lowest === 'admin' ? 'admin' : `${lowest} or higher`] : []),
    ...allowed.filter((r) => rank(r) < 0),
  ];
  return parts.join(' or ');
}

import { HUMAN_ROLES, type HumanRole, type Role } from '@sup/contracts';

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

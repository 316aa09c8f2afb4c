/**
 * What rollouts and version control (services/distribution/src/rollouts) tell this module: the
 * software builds a group's relays must hold. Provided there under this token; until it is, no
 * software build is required of any group.
 */
export interface SoftwareTargetsPort {
  requiredForGroup(group: string): Promise<string[]>;
}
export const SOFTWARE_TARGETS = Symbol.for('sup.distribution.SoftwareTargets');

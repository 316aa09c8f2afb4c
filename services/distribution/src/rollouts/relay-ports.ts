import type { RelayDirectory } from '../relays/relay-directory';
import type { SecurityChannel } from '../relays/security-channel';

/** A relay as rollouts and assignments need it (RelayDirectory.relaysOfGroup's shape). */
export interface RelaySighting {
  relayId: string;
  url?: string;
  version?: string;
  platform?: string;
  lastSeen?: string;
}

/** What rollouts ask of the relays' control plane (services/distribution/src/relays). */
export interface RelayLookup {
  relaysOfGroup(group: string): Promise<RelaySighting[]>;
  groupExists(group: string): Promise<boolean>;
}
export const RELAY_LOOKUP = Symbol('RelayLookup');

export interface SecurityTarget {
  component: string;
  updateId: string;
  version: string;
  sha256: string;
  size: number;
}
/** The security update per component agents should run (SecurityChannel.current()). */
export interface SecurityTargets {
  current(): Promise<SecurityTarget[]>;
}
export const SECURITY_TARGETS = Symbol('SecurityTargets');

/** Compile-time proof that the relays module's providers fit the ports they are wired to. */
export type RelayPortsFit = [
  RelayDirectory extends RelayLookup ? true : never,
  SecurityChannel extends SecurityTargets ? true : never,
];
const portsFit: RelayPortsFit = [true, true];
void portsFit;

import type { VersionedStore } from '@sup/jetstream';
import type { RolloutRecord, VersionControlSetting } from '@sup/domain';

/** `rollout.<id>`: one rollout, changed only by compare-and-set (bucket `rollouts`). */
export const ROLLOUT_STORE = Symbol('ROLLOUT_STORE');
export type RolloutStore = VersionedStore<RolloutRecord>;
export const rolloutKey = (id: string) => `rollout.${id}`;

/**
 * `active` (bucket `rollouts`): the unfinished rollouts, what conflicts are checked against and
 * what the report consumer matches. One key, so creating a rollout and checking it against the
 * others is one compare-and-set: two replicas cannot both admit conflicting rollouts.
 */
export interface ActiveRollout {
  id: string;
  platform: string;
  updateId: string;
  version: string;
  /** The relay groups of its agents. */
  groups: string[];
  /** Absent: every agent of the platform in those groups. */
  agentIds?: string[];
  createdAt: string;
}
export interface ActiveIndex {
  rollouts: ActiveRollout[];
}
export const ROLLOUT_INDEX_STORE = Symbol('ROLLOUT_INDEX_STORE');
export type RolloutIndexStore = VersionedStore<ActiveIndex>;
export const ACTIVE_KEY = 'active';

/** `software.<platform>.agent` (bucket `version_control`; the relays module keeps `security.*`). */
export interface StoredVersionControl extends VersionControlSetting {
  platform: string;
  setBy: string;
  setAt: string;
}
export const VERSION_CONTROL_STORE = Symbol('VERSION_CONTROL_STORE');
export type VersionControlStore = VersionedStore<StoredVersionControl>;
export const versionControlKey = (platform: string) => `software.${platform}.agent`;

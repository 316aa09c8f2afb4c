import { merkleRoot } from '../../relays/merkle';
import {
  DEFAULT_RULE_SETTINGS,
  relayedKey,
  type RuleComputer,
  type RulesSnapshot,
  type RuleUpdate,
} from './snapshot';

/** Builders for the rule table tests (not exported from the package index). */
export const NOW = new Date('2026-11-29T12:00:00.000Z');
export const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();
export const settings = { ...DEFAULT_RULE_SETTINGS, listLimit: 3 };

export const digest = (n: number): string => n.toString(16).padStart(64, '0');

export const agent = (
  id: string,
  version: string,
  patch: Partial<RuleComputer> = {},
): RuleComputer => ({
  id,
  role: 'agent',
  platform: 'linux-x86_64',
  version,
  relayGroup: 'g1',
  securityUpdates: {},
  seenAt: minutesAgo(1),
  ...patch,
});

export const relay = (
  id: string,
  version: string,
  patch: Partial<RuleComputer> = {},
): RuleComputer => agent(id, version, { role: 'relay', ...patch });

export const holding = (holds: string[]): RuleComputer['relay'] => ({
  holds,
  merkleRoot: merkleRoot(holds),
});

let n = 0;
export const software = (version: string, patch: Partial<RuleUpdate> = {}): RuleUpdate => ({
  updateId: `upd_sw_${version}_${patch.component ?? 'agent'}_${patch.platform ?? 'linux-x86_64'}`,
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version,
  sha256: digest(++n),
  publishedAt: minutesAgo(600),
  ...patch,
});

export const security = (
  component: string,
  version: string,
  patch: Partial<RuleUpdate> = {},
): RuleUpdate => ({
  updateId: `upd_${component}_${version}`,
  kind: 'security',
  component,
  version,
  sha256: digest(++n),
  publishedAt: minutesAgo(600),
  ...patch,
});

export const snapshot = (
  computers: RuleComputer[],
  updates: RuleUpdate[],
  relayed: [string, string][] = [],
): RulesSnapshot => ({
  computers,
  updates,
  relayed: new Set(relayed.map(([u, r]) => relayedKey(u, r))),
});

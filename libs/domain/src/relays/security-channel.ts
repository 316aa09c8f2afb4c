import { compareVersions, versionKindOf } from '@sup/contracts';

/** A published, non-withdrawn security update, as the channel sees it. */
export interface ChannelUpdate {
  updateId: string;
  component: string;
  version: string;
}

/** An operator's choice for one component (`POST /v1/updates/{id}/apply`). */
export interface SecurityPin {
  /** The update the component is held at; absent once the newest was applied again. */
  updateId?: string;
  version?: string;
  by: string;
  at: string;
}

const newestFirst = (a: ChannelUpdate, b: ChannelUpdate): number =>
  -compareVersions(versionKindOf('security', a.component) ?? 'rule', a.version, b.version);

/** Per component, its updates newest first. */
export function byComponentNewestFirst(
  updates: readonly ChannelUpdate[],
): Map<string, ChannelUpdate[]> {
  const out = new Map<string, ChannelUpdate[]>();
  for (const u of updates) out.set(u.component, [...(out.get(u.component) ?? []), u]);
  for (const list of out.values()) list.sort(newestFirst);
  return out;
}

/**
 * The current security update per component: the pinned one while its pin names an update that
 * is still published (a withdrawn pin falls back to the newest), else the newest published.
 */
export function channelCurrent(
  updates: readonly ChannelUpdate[],
  pins: ReadonlyMap<string, SecurityPin>,
): ChannelUpdate[] {
  const current: ChannelUpdate[] = [];
  for (const [component, list] of byComponentNewestFirst(updates)) {
    const pinned = pins.get(component)?.updateId;
    current.push(list.find((u) => u.updateId === pinned) ?? list[0]);
  }
  return current.sort((a, b) => (a.component < b.component ? -1 : 1));
}

export type ApplyDecision =
  | { ok: true; component: string; pin: 'set' | 'clear'; update: ChannelUpdate }
  | { ok: false; code: 'not-a-published-security-update' | 'not-kept'; reason: string };

/**
 * Whether an operator may make `updateId` its component's current update: it must be a published
 * security update among the newest `keep` of its component. Applying the newest clears the pin
 * (the component follows new publications again); an older kept one pins it (a rollback).
 */
export function decideApply(
  updates: readonly ChannelUpdate[],
  updateId: string,
  keep: number,
): ApplyDecision {
  const target = updates.find((u) => u.updateId === updateId);
  if (!target) {
    return {
      ok: false,
      code: 'not-a-published-security-update',
      reason: `${updateId} is not a published, non-withdrawn security update`,
    };
  }
  const list = byComponentNewestFirst(updates).get(target.component) ?? [];
  const position = list.findIndex((u) => u.updateId === updateId);
  if (position >= keep) {
    return {
      ok: false,
      code: 'not-kept',
      reason:
        `${updateId} (${target.component} ${target.version}) is older than the ${keep} kept ` +
        `updates of ${target.component} (SECURITY_KEEP_PER_COMPONENT)`,
    };
  }
  return {
    ok: true,
    component: target.component,
    pin: position === 0 ? 'clear' : 'set',
    update: target,
  };
}

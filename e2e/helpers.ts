import type { Pipeline } from '@sup/testing';
import { eventually } from '@sup/testing';

export interface SyncStatus {
  id: string;
  state: string;
  reason?: string;
  imported: number;
  unchanged: number;
  rejected: number;
  failed: number;
  pending: number;
  total?: number;
  failures?: { index: number; code: string; reason: string }[];
}
export interface UpdateItem {
  id: string;
  kind: string;
  component: string;
  platform?: string;
  version: string;
  state: string;
  rejection?: { stage: string; code: string; reason: string };
}

export const SYNC_FINISHED = new Set(['completed', 'refused', 'failed']);

export async function syncAndWait(p: Pipeline, url?: string): Promise<SyncStatus> {
  const started = await p.api<{ id: string }>('POST', '/v1/feeds/sync', url ? { url } : {});
  expect(started.status).toBe(202);
  return eventually(async () => {
    const s = await p.api<SyncStatus>('GET', `/v1/feeds/syncs/${started.body.id}`);
    return SYNC_FINISHED.has(s.body.state) ? s.body : undefined;
  }, `sync ${started.body.id}`);
}

export async function allUpdates(p: Pipeline): Promise<UpdateItem[]> {
  const res = await p.api<{ items: UpdateItem[] }>('GET', '/v1/updates?limit=500');
  return res.body.items;
}

/** Waits until `count` updates exist and none is still moving through the pipeline. */
export function settled(p: Pipeline, count: number): Promise<UpdateItem[]> {
  return eventually(
    async () => {
      const items = await allUpdates(p);
      const done = items.filter((u) => u.state === 'published' || u.state === 'rejected');
      return items.length === count && done.length === count ? items : undefined;
    },
    `${count} updates to settle`,
    120_000,
  );
}

export const find = (items: UpdateItem[], component: string, version: string): UpdateItem => {
  const hit = items.find((u) => u.component === component && u.version === version);
  if (!hit)
    throw new Error(
      `no update ${component} ${version} in ${JSON.stringify(items.map((u) => `${u.component} ${u.version}`))}`,
    );
  return hit;
};

/**
 * Service environment that lets syncs requested with these URLs read them: the suites' feeds live
 * in temporary directories and on loopback servers, which a request URL may reach only when an
 * operator allow-lists them (FEED_ALLOWED_URL_PREFIXES; loopback by IP literal, file: with
 * FEED_ALLOW_FILE).
 */
export function allowFeeds(...prefixes: string[]): Record<string, string> {
  return { FEED_ALLOW_FILE: 'true', FEED_ALLOWED_URL_PREFIXES: prefixes.join(',') };
}

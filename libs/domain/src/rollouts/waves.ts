import { createHash } from 'node:crypto';

/** How a rollout cuts its agents into waves: cumulative percentages or a fixed size. */
export type WaveSpec = { percents: readonly number[] } | { size: number };

/**
 * The order agents enter a rollout: by SHA-256 of rollout id and agent id. Deterministic (a
 * retry or another replica computes the same plan), and unrelated to agent ids, so the first
 * wave is a spread of the fleet rather than the alphabetically first machines.
 */
export function rolloutOrder(rolloutId: string, agentIds: readonly string[]): string[] {
  const key = (id: string) => createHash('sha256').update(`${rolloutId}:${id}`).digest('hex');
  return [...new Set(agentIds)]
    .map((id) => ({ id, k: key(id) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((e) => e.id);
}

/**
 * The agents of each wave. Percentages are cumulative and round up (10% of 5 agents is one), and a
 * wave that would be empty (small fleets) is dropped, so every wave has at least one agent. No
 * agents: no waves.
 */
export function planWaves(
  rolloutId: string,
  agentIds: readonly string[],
  spec: WaveSpec,
): string[][] {
  const ordered = rolloutOrder(rolloutId, agentIds);
  const n = ordered.length;
  const ends: number[] = [];
  if ('size' in spec) {
    for (let end = spec.size; end < n + spec.size; end += spec.size) ends.push(Math.min(end, n));
  } else {
    for (const p of spec.percents) ends.push(Math.min(n, Math.ceil((n * p) / 100)));
  }
  const waves: string[][] = [];
  let start = 0;
  for (const end of ends) {
    if (end <= start) continue;
    waves.push(ordered.slice(start, end));
    start = end;
  }
  return waves;
}

import { compareVersions, parseVersion, versionKindOf } from '@sup/contracts';

/** One file a relay keeps, as the eviction policy sees it. */
export interface CachedFile {
  sha256: string;
  kind: string;
  component: string;
  platform?: string;
  version: string;
  size: number;
  /** Last time an agent read it or it was stored (epoch ms). */
  lastUsedMs: number;
}

export interface EvictionInput {
  files: readonly CachedFile[];
  /** Bytes a new file needs (0 to only bring the cache back under its bound). */
  incomingBytes: number;
  maxBytes: number;
  /** Digests the group catalog marks `required`: never evicted. */
  required: ReadonlySet<string>;
}

export interface EvictionPlan {
  /** Digests to delete, in this order. */
  evict: string[];
  /** False when even evicting everything allowed leaves no room for the incoming bytes. */
  fits: boolean;
}

const lineOf = (f: CachedFile): string => `${f.kind}\u0000${f.component}\u0000${f.platform ?? ''}`;

/** Comparable version, or undefined for a version the library cannot read (never "superseded"). */
function comparable(f: CachedFile): ((other: CachedFile) => number) | undefined {
  const kind = versionKindOf(f.kind, f.component);
  if (!kind || !parseVersion(kind, f.version).ok) return undefined;
  return (other) =>
    parseVersion(kind, other.version).ok ? compareVersions(kind, f.version, other.version) : 0;
}

/**
 * Whether a newer build of the same kind, component and platform is also held: agents are sent to
 * the newest, so an older build is the first thing a full cache can give up.
 */
function isSuperseded(f: CachedFile, files: readonly CachedFile[]): boolean {
  const cmp = comparable(f);
  if (!cmp) return false;
  return files.some((o) => o.sha256 !== f.sha256 && lineOf(o) === lineOf(f) && cmp(o) < 0);
}

/**
 * Which files to delete so that `incomingBytes` fit under `maxBytes`: superseded builds first
 * (oldest use first), then the least recently used; `required` files are never chosen. Pure, so
 * the order is table-tested; the cache applies the plan.
 */
export function planEviction(input: EvictionInput): EvictionPlan {
  const used = input.files.reduce((sum, f) => sum + f.size, 0);
  let excess = used + input.incomingBytes - input.maxBytes;
  if (excess <= 0) return { evict: [], fits: true };
  const candidates = input.files
    .filter((f) => !input.required.has(f.sha256))
    .map((f) => ({ f, superseded: isSuperseded(f, input.files) }))
    .sort(
      (a, b) =>
        Number(b.superseded) - Number(a.superseded) ||
        a.f.lastUsedMs - b.f.lastUsedMs ||
        a.f.sha256.localeCompare(b.f.sha256),
    );
  const evict: string[] = [];
  for (const { f } of candidates) {
    if (excess <= 0) break;
    evict.push(f.sha256);
    excess -= f.size;
  }
  return { evict, fits: excess <= 0 };
}

import type { X509Certificate } from 'node:crypto';
import { certificateInfo, sha256Hex, type CertificateInfo } from './certificate-info';
import type { TrustedChain } from './chain';
import type { CryptoPolicy } from './crypto-policy';
import { LruCache } from './lru-cache';
import { signerPolicyKey, type SignerPolicy } from './signer-policy';

export interface ChainCacheOptions {
  /** Chains kept before the least recently used is dropped. Default 256. */
  maxEntries?: number;
}

export interface ChainCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  size: number;
}

/** Everything chain building depends on except the time, which the validity window covers. */
export interface ChainCacheKeyParts {
  signer: CertificateInfo;
  /** The certificates the path search may use (from the CMS and the caller), in search order. */
  candidates: readonly CertificateInfo[];
  anchors: readonly X509Certificate[];
  policy: CryptoPolicy;
  signerPolicy: SignerPolicy;
}

interface Entry {
  chain: TrustedChain;
  /** The intersection of every certificate's validity period, in epoch ms. */
  validFrom: number;
  validUntil: number;
}

export const DEFAULT_CHAIN_CACHE_ENTRIES = 256;

/**
 * Verified signer chains, so that a feed signed by one signer builds and checks its chain once.
 * Only successful chains are kept; an entry is used only within the validity period of every
 * certificate on it, and its key names the signer, the candidate intermediates, the exact trust
 * anchor set and the policy, so reloading other anchors or changing the policy never reuses it.
 * The CMS signature itself is never cached: callers verify it every time.
 */
export class ChainCache {
  private readonly entries: LruCache<string, Entry>;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(options: ChainCacheOptions = {}) {
    this.entries = new LruCache(options.maxEntries ?? DEFAULT_CHAIN_CACHE_ENTRIES);
  }

  get maxEntries(): number {
    return this.entries.maxEntries;
  }

  /** The chain stored under `key`, unless `now` lies outside a certificate's validity period. */
  get(key: string, now: Date): TrustedChain | undefined {
    const entry = this.entries.get(key);
    const at = now.getTime();
    if (entry && at >= entry.validFrom && at <= entry.validUntil) {
      this.hits++;
      return entry.chain;
    }
    // Past notAfter the entry can never be valid again; before notBefore it may still become so.
    if (entry && at > entry.validUntil) this.entries.delete(key);
    this.misses++;
    return undefined;
  }

  set(key: string, chain: TrustedChain): void {
    const validFrom = Math.max(...chain.path.map((c) => c.notBefore.getTime()));
    const validUntil = Math.min(...chain.path.map((c) => c.notAfter.getTime()));
    this.evictions += this.entries.set(key, { chain, validFrom, validUntil });
  }

  stats(): ChainCacheStats {
    const { hits, misses, evictions } = this;
    return { hits, misses, evictions, size: this.entries.size };
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Used by verifyDetachedCms unless the caller passes its own cache (or `null` for none). */
export const defaultChainCache = new ChainCache();

/**
 * Identifies a chain-building problem by SHA-256 fingerprints: signer, candidate intermediates
 * and trust anchors (in search order, which decides the path when several exist) and the policy.
 */
export function chainCacheKey(parts: ChainCacheKeyParts): string {
  const { minRsaBits, allowedDigests, allowedCurves } = parts.policy;
  return [
    `policy:${minRsaBits}|${allowedDigests.join(',')}|${allowedCurves.join(',')}`,
    `signer-policy:${signerPolicyKey(parts.signerPolicy)}`,
    `anchors:${anchorSetId(parts.anchors)}`,
    `signer:${parts.signer.fingerprint}`,
    `candidates:${parts.candidates.map((c) => c.fingerprint).join(',')}`,
  ].join('\n');
}

const anchorSetIds = new WeakMap<readonly X509Certificate[], string>();

/** One digest over the anchors' fingerprints; remembered for frozen sets (parseTrustAnchors' are). */
function anchorSetId(anchors: readonly X509Certificate[]): string {
  let id = anchorSetIds.get(anchors);
  if (id === undefined) {
    const prints = anchors.map((a) => certificateInfo(a).fingerprint).join(',');
    id = sha256Hex(Buffer.from(prints, 'latin1'));
    if (Object.isFrozen(anchors)) anchorSetIds.set(anchors, id);
  }
  return id;
}

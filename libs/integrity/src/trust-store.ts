import type { ByteSource } from './byte-source';
import { ChainCache } from './chain-cache';
import { verifyDetachedCms, type CmsVerification } from './cms-verify';
import { DEFAULT_CRYPTO_POLICY, type CryptoPolicy } from './crypto-policy';
import type { CrlSource, RevocationFailMode } from './revocation';
import { DEFAULT_SIGNER_POLICY, type SignerPolicy } from './signer-policy';
import type { TrustAnchors } from './trust-anchors';

/** What may change while a service runs: files and URLs re-read by a loader. */
export interface TrustMaterial {
  readonly anchors: TrustAnchors;
  /** DER certificates that may complete a chain the CMS does not carry in full. */
  readonly intermediates: readonly Buffer[];
  readonly crls: readonly CrlSource[];
}

/** What is fixed at start-up (environment). */
export interface VerificationPolicy {
  readonly crypto: CryptoPolicy;
  readonly signer: SignerPolicy;
  readonly revocationFailMode: RevocationFailMode;
}

export const DEFAULT_VERIFICATION_POLICY: VerificationPolicy = Object.freeze({
  crypto: DEFAULT_CRYPTO_POLICY,
  signer: DEFAULT_SIGNER_POLICY,
  revocationFailMode: 'closed',
});

/** One consistent view: a verification never mixes old anchors with new CRLs. */
export interface TrustSnapshot extends TrustMaterial {
  /** Increases with every change, for logs. */
  readonly version: number;
  readonly policy: VerificationPolicy;
}

export interface TrustedVerifyInput {
  signature: Buffer;
  content: () => ByteSource;
  maxContentBytes?: number;
  now?: Date;
}

/**
 * The trust a service verifies with: anchors, intermediates, CRLs and policy, swapped as a whole
 * so a reload is atomic for every verification that starts after it. Pure state; reading files,
 * fetching URLs and deciding when to reload belong to a loader. Every signature a service
 * checks (artifacts, feed indexes, imports) goes through {@link verify}, so one policy applies.
 */
export class TrustStore {
  private snapshot: TrustSnapshot;
  /** Own cache, emptied when anchors or intermediates change: no chain outlives its anchor. */
  private readonly chainCache: ChainCache;

  constructor(
    material: TrustMaterial,
    policy: VerificationPolicy = DEFAULT_VERIFICATION_POLICY,
    chainCache = new ChainCache(),
    /** Told about every acceptance with warnings (fail-open revocation), whoever verified. */
    private readonly onWarnings?: (warnings: string[], result: CmsVerification) => void,
  ) {
    this.snapshot = Object.freeze({ ...material, policy, version: 1 });
    this.chainCache = chainCache;
  }

  get current(): TrustSnapshot {
    return this.snapshot;
  }

  /** Replaces the given parts; returns the new snapshot. */
  update(changes: Partial<TrustMaterial>): TrustSnapshot {
    const previous = this.snapshot;
    this.snapshot = Object.freeze({ ...previous, ...changes, version: previous.version + 1 });
    const chainsChanged =
      (changes.anchors && changes.anchors !== previous.anchors) ||
      (changes.intermediates && changes.intermediates !== previous.intermediates);
    if (chainsChanged) this.chainCache.clear();
    return this.snapshot;
  }

  /** verifyDetachedCms with this store's current trust and policy. */
  async verify(input: TrustedVerifyInput): Promise<CmsVerification> {
    const trust = this.snapshot;
    const result = await verifyDetachedCms({
      ...input,
      trustAnchors: trust.anchors,
      extraCertificates: trust.intermediates,
      policy: trust.policy.crypto,
      signerPolicy: trust.policy.signer,
      revocation: { sources: trust.crls, failMode: trust.policy.revocationFailMode },
      chainCache: this.chainCache,
    });
    if (result.warnings) this.onWarnings?.(result.warnings, result);
    return result;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { FeedIndex } from '@sup/contracts';
import { parseFeedIndex, type FeedIndexFiles } from '@sup/feed';
import { CmsVerificationError, type TrustStore } from '@sup/integrity';
import { SERVICE_CONFIG, TRUST_STORE } from '@sup/service-kit';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { IngestConfig } from '../config';
import { FeedStates } from '../state/feed-states';
import { feedFreshness, type FreshnessRule } from './feed-freshness';

export type IndexRefusalReason =
  | 'index-too-large'
  | 'index-signature-too-large'
  | 'index-signature-invalid'
  | 'malformed-index'
  | FreshnessRule;

/**
 * A signed index that must not be trusted. `reason` is the rule that refused; `message` explains
 * it for an operator and never quotes the index bytes (they may be anything until verified).
 */
export class IndexRefusal extends Error {
  override readonly name = 'IndexRefusal';

  constructor(
    readonly reason: IndexRefusalReason,
    message: string,
    /** For `index-signature-invalid`: the CMS verification code (e.g. `untrusted-chain`). */
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(`${reason}: ${message}`, options);
  }
}

export interface TrustedIndex {
  index: FeedIndex;
  /** SHA-256 (hex) of the exact signed bytes: what rollback protection compares. */
  digest: string;
}

export interface VerifyIndexOptions {
  /**
   * Skip the freshness and rollback rules: for an index this sync already accepted (a
   * redelivery re-reading it to re-queue its entries). Signature and schema are always checked.
   */
  alreadyAccepted?: boolean;
  now?: Date;
}

/**
 * The one gate every signed index passes, from a feed or from an uploaded bundle: sizes, then the
 * CMS signature over the raw bytes, and only then JSON parsing, the schema, and the freshness and
 * rollback rules of its feed name. Order matters: unsigned bytes are never parsed.
 */
@Injectable()
export class SignedIndexVerifier {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
    private readonly feedStates: FeedStates,
    @Inject(TRUST_STORE) private readonly trust: TrustStore,
  ) {}

  /** Throws IndexRefusal; any other error is an infrastructure failure (KV, bug). */
  async verify(files: FeedIndexFiles, options: VerifyIndexOptions = {}): Promise<TrustedIndex> {
    const { indexBytes, signatureBytes } = files;
    const { indexMaxBytes, indexSignatureMaxBytes } = this.config;
    if (indexBytes.length > indexMaxBytes) {
      throw new IndexRefusal(
        'index-too-large',
        `index.json is larger than ${indexMaxBytes} bytes (FEED_INDEX_MAX_BYTES)`,
      );
    }
    if (signatureBytes.length > indexSignatureMaxBytes) {
      throw new IndexRefusal(
        'index-signature-too-large',
        `index.json.p7s is larger than ${indexSignatureMaxBytes} bytes (FEED_INDEX_SIGNATURE_MAX_BYTES)`,
      );
    }
    await this.verifySignature(indexBytes, signatureBytes);
    const parsed = parseFeedIndex(indexBytes, indexMaxBytes);
    if (!parsed.ok) {
      throw new IndexRefusal(
        'malformed-index',
        `the signed index.json is malformed: ${parsed.issues.slice(0, 20).join('; ')}`,
      );
    }
    const digest = createHash('sha256').update(indexBytes).digest('hex');
    if (!options.alreadyAccepted) {
      const accepted = await this.feedStates.get(parsed.index.feed);
      const stale = feedFreshness(parsed.index, digest, accepted, options.now ?? new Date());
      if (stale) throw new IndexRefusal(stale.rule, stale.message);
    }
    return { index: parsed.index, digest };
  }

  /** Records the index as its feed's newest (compare-and-set: only ever moves forward). */
  async accept({ index, digest }: TrustedIndex): Promise<void> {
    await this.feedStates.accept(index.feed, index.sequence, digest);
  }

  /** The only place an index signature is checked: the signer policy applies here. */
  private async verifySignature(indexBytes: Buffer, signatureBytes: Buffer): Promise<void> {
    try {
      // The service's trust store: the anchors, CRLs, signer and crypto policy artifacts get.
      await this.trust.verify({
        signature: signatureBytes,
        content: () => Readable.from([indexBytes]),
      });
    } catch (error) {
      if (error instanceof CmsVerificationError) {
        throw new IndexRefusal(
          'index-signature-invalid',
          `index.json.p7s does not verify over index.json (${error.code})`,
          error.code,
          // The verifier's own message names certificates from the signature: for the log only.
          { cause: error },
        );
      }
      throw error;
    }
  }
}

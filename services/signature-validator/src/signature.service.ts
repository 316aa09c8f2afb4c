import { Inject, Injectable } from '@nestjs/common';
import { ArtifactNotFoundError, type ArtifactStore } from '@sup/artifact-store';
import { managerSupports, SUBJECTS, type UpdateDescriptor } from '@sup/contracts';
import { CmsVerificationError, type TrustStore } from '@sup/integrity';
import type { EventBatch, OutgoingEvent } from '@sup/jetstream';
import {
  ARTIFACT_STORE,
  decideEach,
  decision,
  Outbox,
  rejectionOf,
  ROOT_LOGGER,
  SERVICE_CONFIG,
  TRUST_STORE,
} from '@sup/service-kit';
import type { Logger } from 'pino';
import type { SignatureValidatorConfig } from './config';
import { readAll } from './read-all';

/** Signatures checked at once per replica: content reads overlap, the maths stays on one core. */
const VERIFY_CONCURRENCY = 4;

/**
 * Like checksum, this stage keeps no state: the verdict is a function of the stored bytes, the
 * signature and the trust in force (anchors, CRLs, policy: TRUST_STORE, reloaded without a
 * restart), and the stream's compare-and-set keeps the first announcement of it.
 */
@Injectable()
export class SignatureService {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(SERVICE_CONFIG) private readonly config: SignatureValidatorConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(TRUST_STORE) private readonly trust: TrustStore,
  ) {}

  validateBatch(batch: EventBatch<typeof SUBJECTS.checksumVerified>): Promise<void> {
    return decideEach(batch, this.outbox, VERIFY_CONCURRENCY, (item) =>
      this.decide(item.event.data.update),
    );
  }

  async decide(update: UpdateDescriptor): Promise<OutgoingEvent> {
    const store = this.store;
    let signature: Buffer | null;
    try {
      signature = await readAll(
        await store.open(update.signature.storeKey),
        this.config.signatureMaxBytes,
      );
    } catch (error) {
      if (!(error instanceof ArtifactNotFoundError)) throw error;
      return this.refuse(
        update,
        'signature',
        'signature-missing',
        'the stored signature file is missing',
      );
    }
    if (!signature) {
      const max = this.config.signatureMaxBytes;
      return this.refuse(
        update,
        'signature',
        'signature-too-large',
        `the signature file exceeds ${max} bytes`,
      );
    }
    try {
      const result = await this.trust.verify({
        signature,
        content: () => streamOf(store, update.artifact.storeKey),
      });
      if (result.warnings) {
        // CRL_FAIL_MODE=open: accepted without knowing whether a certificate was revoked.
        this.logger.warn(
          { updateId: update.updateId, correlationId: update.updateId, warnings: result.warnings },
          `"${update.artifact.path}" accepted without a revocation check`,
        );
      }
      // Authentic first, then usable here: a forged package is reported as forged, whatever
      // manager it claims to need.
      const compatible = managerSupports(update.minManagerVersion, this.config.manager);
      if (!compatible.ok) return this.refuseByPolicy(update, compatible.code, compatible.reason);
      return decision(SUBJECTS.validated, update.updateId, {
        update,
        signer: result.signer,
        signatureAlgorithm: result.signatureAlgorithm,
        digestAlgorithm: result.digestAlgorithm,
        signedAttributes: result.signedAttributes,
        validatedAt: new Date().toISOString(),
      });
    } catch (error) {
      if (!(error instanceof CmsVerificationError)) throw error;
      return this.refuse(update, error.stage, error.code, error.message);
    }
  }

  /** Signed by the vendor, but not for this manager: never used here, and not a signature fault. */
  private refuseByPolicy(update: UpdateDescriptor, code: string, reason: string): OutgoingEvent {
    this.logger.warn(
      {
        updateId: update.updateId,
        correlationId: update.updateId,
        file: update.artifact.path,
        code,
      },
      `"${update.artifact.path}" cannot be used by this manager: ${reason}`,
    );
    return rejectionOf(update, 'policy', code, reason);
  }

  /** The reference product's warning: the file is named, and it is never used. */
  private refuse(
    update: UpdateDescriptor,
    stage: 'signature' | 'policy',
    code: string,
    reason: string,
  ): OutgoingEvent {
    this.logger.warn(
      {
        updateId: update.updateId,
        correlationId: update.updateId,
        file: update.artifact.path,
        code,
      },
      `Verifying the signature failed. "${update.artifact.path}" has not been digitally signed by a trusted vendor and cannot be imported: ${reason}`,
    );
    return rejectionOf(update, stage, code, reason);
  }
}

async function* streamOf(store: ArtifactStore, key: string): AsyncIterable<Buffer> {
  for await (const chunk of await store.open(key)) yield chunk as Buffer;
}

import { Inject, Injectable } from '@nestjs/common';
import { ArtifactNotFoundError, hashArtifact, type ArtifactStore } from '@sup/artifact-store';
import { SUBJECTS, type UpdateDescriptor } from '@sup/contracts';
import type { EventBatch, OutgoingEvent } from '@sup/jetstream';
import { ARTIFACT_STORE, decideEach, decision, Outbox, rejectionOf } from '@sup/service-kit';
import { checksumVerdict } from './checksum-verdict';

/** Artifacts hashed at once per replica: reading is I/O, hashing one core's worth of CPU. */
const HASH_CONCURRENCY = 4;

/**
 * The checksum stage keeps no state: its verdict is a pure function of the stored bytes and the
 * published digest, so a redelivery recomputes the same verdict and the stream's compare-and-set
 * keeps the first announcement.
 */
@Injectable()
export class ChecksumService {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  verifyBatch(batch: EventBatch<typeof SUBJECTS.imported>): Promise<void> {
    return decideEach(batch, this.outbox, HASH_CONCURRENCY, (item) =>
      this.decide(item.event.data.update),
    );
  }

  async decide(update: UpdateDescriptor): Promise<OutgoingEvent> {
    let measured: { sha256: string; size: number };
    try {
      measured = await hashArtifact(this.store, update.artifact.storeKey);
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) {
        return rejectionOf(
          update,
          'checksum',
          'artifact-missing',
          `stored artifact ${update.artifact.storeKey} is missing`,
        );
      }
      throw error;
    }
    const verdict = checksumVerdict(update.artifact, measured);
    if (!verdict.ok) return rejectionOf(update, 'checksum', verdict.code, verdict.reason);
    return decision(SUBJECTS.checksumVerified, update.updateId, {
      update,
      computedSha256: measured.sha256,
      computedSize: measured.size,
      verifiedAt: new Date().toISOString(),
    });
  }
}

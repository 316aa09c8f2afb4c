import { Inject, Injectable } from '@nestjs/common';
import { ArtifactNotFoundError, type ArtifactStore } from '@sup/artifact-store';
import { SUBJECTS, type UpdateDescriptor } from '@sup/contracts';
import { hashStream } from '@sup/integrity';
import {
  ARTIFACT_STORE,
  OutcomeLedger,
  outcomeFor,
  rejectionOf,
  type StageOutcome,
} from '@sup/service-kit';
import { checksumVerdict } from './checksum-verdict';

@Injectable()
export class ChecksumService {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    private readonly ledger: OutcomeLedger,
  ) {}

  verify(update: UpdateDescriptor): Promise<{ outcome: StageOutcome; replayed: boolean }> {
    return this.ledger.once(`checksum:${update.updateId}`, () => this.decide(update));
  }

  private async decide(update: UpdateDescriptor): Promise<StageOutcome> {
    let measured: { sha256: string; size: number };
    try {
      measured = await hashStream(await this.store.open(update.artifact.storeKey));
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
    return outcomeFor(SUBJECTS.checksumVerified, update.updateId, {
      update,
      computedSha256: measured.sha256,
      computedSize: measured.size,
      verifiedAt: new Date().toISOString(),
    });
  }
}

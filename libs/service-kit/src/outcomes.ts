import {
  eventId,
  SUBJECTS,
  type EventData,
  type RejectionStage,
  type Subject,
  type UpdateDescriptor,
} from '@sup/contracts';
import type { StageOutcome } from './outcome-ledger';

/** An outcome about one entity; its event id is derived from the entity, so replays deduplicate. */
export function outcomeFor<S extends Subject>(
  subject: S,
  key: string,
  data: EventData<S>,
): StageOutcome<S> {
  return { subject, data, eventId: eventId(subject, key), correlationId: key };
}

export function rejectionOf(
  update: UpdateDescriptor,
  stage: RejectionStage,
  code: string,
  reason: string,
): StageOutcome<typeof SUBJECTS.rejected> {
  return outcomeFor(SUBJECTS.rejected, update.updateId, {
    updateId: update.updateId,
    stage,
    code,
    reason,
    file: update.artifact.path,
    update,
    source: update.source,
    rejectedAt: new Date().toISOString(),
  });
}

import {
  eventId,
  SUBJECTS,
  type EventData,
  type RejectionStage,
  type Subject,
  type UpdateDescriptor,
} from '@sup/contracts';
import type { OutgoingEvent } from '@sup/jetstream';

/**
 * The event announcing a decision about one entity. Its id is derived from the entity and type,
 * and it is published on the entity's own subject, so the stream keeps exactly one per entity.
 */
export function decision<S extends Subject>(
  type: S,
  entityId: string,
  data: EventData<S>,
): OutgoingEvent<S> {
  return { type, entityId, data, id: eventId(type, entityId) };
}

export function rejectionOf(
  update: UpdateDescriptor,
  stage: RejectionStage,
  code: string,
  reason: string,
): OutgoingEvent<typeof SUBJECTS.rejected> {
  return decision(SUBJECTS.rejected, update.updateId, {
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

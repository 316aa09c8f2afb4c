import {
  SUBJECTS,
  UPDATE_SUBJECTS,
  type UpdateSubject,
  type CloudEvent,
  type UpdateDescriptor,
  type UpdateDetail,
  type UpdateState,
} from '@sup/contracts';

/** The five update events, in pipeline order. */
export type UpdateEventType = UpdateSubject;

export const UPDATE_EVENT_TYPES: readonly UpdateEventType[] = UPDATE_SUBJECTS;

const STATE_OF: Record<UpdateEventType, { state: UpdateState; rank: number }> = {
  [SUBJECTS.imported]: { state: 'imported', rank: 1 },
  [SUBJECTS.checksumVerified]: { state: 'checksum-verified', rank: 2 },
  [SUBJECTS.validated]: { state: 'validated', rank: 3 },
  [SUBJECTS.published]: { state: 'published', rank: 4 },
  // Terminal: no later event can move a rejected update on.
  [SUBJECTS.rejected]: { state: 'rejected', rank: 9 },
};

/** Everything known about one update, merged from its events in whatever order they arrived. */
export type UpdateView = Omit<UpdateDetail, 'updatedAt'> & {
  rank: number;
  createdAt: string;
  updatedAt: string;
};

type Facts = Partial<
  Pick<
    UpdateView,
    'kind' | 'component' | 'platform' | 'version' | 'sha256' | 'size' | 'rejection' | 'signer'
  >
>;

const describe = (u: UpdateDescriptor): Facts => ({
  kind: u.kind,
  component: u.component,
  ...(u.platform ? { platform: u.platform } : {}),
  version: u.version,
  sha256: u.artifact.sha256,
  size: u.artifact.size,
});

/** The update an event is about, without working out its facts. */
export function updateIdOf(type: UpdateEventType, event: CloudEvent<UpdateEventType>): string {
  return type === SUBJECTS.rejected
    ? (event as CloudEvent<typeof SUBJECTS.rejected>).data.updateId
    : (event as CloudEvent<Exclude<UpdateEventType, typeof SUBJECTS.rejected>>).data.update
        .updateId;
}

/** What one event tells about its update, with no undefined fields (they would erase known facts). */
export function factsOf(
  type: UpdateEventType,
  event: CloudEvent<UpdateEventType>,
): { updateId: string; facts: Facts } {
  if (type === SUBJECTS.rejected) {
    const data = (event as CloudEvent<typeof SUBJECTS.rejected>).data;
    const known: Facts = data.update
      ? describe(data.update)
      : {
          kind: data.entry?.kind ?? 'unknown',
          component: data.entry?.component ?? 'unknown',
          ...(data.entry?.platform ? { platform: data.entry.platform } : {}),
          version: data.entry?.version ?? 'unknown',
        };
    return {
      updateId: data.updateId,
      facts: { ...known, rejection: { stage: data.stage, code: data.code, reason: data.reason } },
    };
  }
  const data = (event as CloudEvent<Exclude<UpdateEventType, typeof SUBJECTS.rejected>>).data;
  const facts = describe(data.update);
  if (type === SUBJECTS.validated) {
    facts.signer = (event as CloudEvent<typeof SUBJECTS.validated>).data.signer;
  }
  return { updateId: data.update.updateId, facts };
}

/**
 * Merges one event into the view. Pure and idempotent: an event already in the history changes
 * nothing (returns undefined), facts merge whatever the order, and the state only moves forward by
 * rank, with `rejected` terminal. Being pure is what lets the caller retry it under compare-and-set.
 */
export function applyUpdateEvent(
  current: UpdateView | undefined,
  type: UpdateEventType,
  event: CloudEvent<UpdateEventType>,
  now: Date,
): UpdateView | undefined {
  if (current?.history.some((h) => h.eventId === event.id)) return undefined;
  const { updateId, facts } = factsOf(type, event);
  const { state, rank } = STATE_OF[type];
  const advance = !current || rank > current.rank;
  const history = [
    ...(current?.history ?? []),
    { eventId: event.id, type: event.type, state, time: event.time, source: event.source },
  ].sort((a, b) => a.time.localeCompare(b.time) || a.eventId.localeCompare(b.eventId));
  return {
    id: updateId,
    kind: 'unknown',
    component: 'unknown',
    version: 'unknown',
    ...current,
    ...facts,
    state: advance ? state : (current?.state ?? state),
    rank: advance ? rank : (current?.rank ?? rank),
    history,
    createdAt: current?.createdAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

import type { RecordContent } from '@sup/audit';
import {
  SUBJECTS,
  type Actor,
  type CloudEvent,
  type EventData,
  type Subject,
  type UpdateDescriptor,
  type UpdateSubject,
} from '@sup/contracts';
import type { BatchItem } from '@sup/jetstream';
import type { Pending } from './chain-appender';

/** The update events the audit log records: every verdict on an update. */
export type VerdictSubject = UpdateSubject;

type Summary = NonNullable<RecordContent['summary']>;

/** The last word of the subject: `imported`, `checksum-verified`, … */
const verdictName = (type: Subject): string => type.slice(type.lastIndexOf('.') + 1);

function describeUpdate(update: UpdateDescriptor): Summary {
  return {
    updateId: update.updateId,
    component: update.component,
    version: update.version,
    ...(update.platform ? { platform: update.platform } : {}),
    artifactSha256: update.artifact.sha256,
    origin: update.source.type,
    ...(update.source.type === 'feed'
      ? { feed: update.source.feed, syncId: update.source.syncId }
      : { importId: update.source.importId }),
  };
}

function verdictSummary(type: VerdictSubject, data: EventData<VerdictSubject>): Summary {
  const base = { verdict: verdictName(type) };
  if (type === SUBJECTS.rejected) {
    const r = data as EventData<typeof SUBJECTS.rejected>;
    return {
      ...base,
      ...(r.update ? describeUpdate(r.update) : {}),
      updateId: r.updateId,
      stage: r.stage,
      code: r.code,
      reason: r.reason.slice(0, 2_000),
      ...(r.file ? { file: r.file } : {}),
    };
  }
  const withUpdate = data as { update: UpdateDescriptor };
  const summary: Summary = { ...base, ...describeUpdate(withUpdate.update) };
  if (type === SUBJECTS.validated) {
    const v = data as EventData<typeof SUBJECTS.validated>;
    summary.signer = v.signer.subject;
    summary.signerSha256 = v.signer.sha256Fingerprint;
  }
  return summary;
}

/** Who the verdict concerns as an actor: the operator who uploaded a manual import. */
function verdictActor(data: EventData<VerdictSubject>): Actor | undefined {
  const source = 'update' in data && data.update ? data.update.source : undefined;
  return source?.type === 'manual' ? source.importedBy : undefined;
}

const sourceOf = (event: CloudEvent, subject: string) => ({
  id: event.id,
  type: event.type,
  subject,
  time: event.time,
});

/** Deduplicated per source event, so a redelivery inside the duplicate window appends nothing. */
export const sourceMsgId = (eventId: string): string => `audit:${eventId}`;

export function verdictRecord(
  type: VerdictSubject,
  item: BatchItem<VerdictSubject>,
  at: Date,
): Pending {
  const { event } = item;
  const actor = verdictActor(event.data);
  return {
    kind: 'source',
    msgId: sourceMsgId(event.id),
    content: {
      at: at.toISOString(),
      kind: 'verdict',
      source: sourceOf(event, item.subject),
      ...(actor ? { actor } : {}),
      summary: verdictSummary(type, event.data),
    },
  };
}

export function actionRecord(item: BatchItem<typeof SUBJECTS.auditAction>, at: Date): Pending {
  const { event } = item;
  const action = event.data;
  return {
    kind: 'source',
    msgId: sourceMsgId(event.id),
    content: {
      at: at.toISOString(),
      kind: 'action',
      source: sourceOf(event, item.subject),
      actor: action.actor,
      summary: {
        action: action.action,
        target: action.target,
        outcome: action.outcome,
        ...(action.reason ? { reason: action.reason } : {}),
        actedAt: action.at,
      },
    },
  };
}

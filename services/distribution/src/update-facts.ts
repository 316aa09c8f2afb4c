import { SUBJECTS, type CloudEvent, type UpdateDescriptor } from '@sup/contracts';
import type { UpdateSubject } from './update-view.service';

type Facts = Record<string, unknown>;

const describe = (u: UpdateDescriptor): Facts => ({
  kind: u.kind,
  component: u.component,
  ...(u.platform ? { platform: u.platform } : {}),
  version: u.version,
  sha256: u.artifact.sha256,
  size: u.artifact.size,
});

/** What one event tells about its update, with no undefined fields (they would erase known facts). */
export function factsOf(
  subject: UpdateSubject,
  event: CloudEvent<UpdateSubject>,
): { updateId: string; facts: Facts } {
  if (subject === SUBJECTS.rejected) {
    const data = (event as CloudEvent<typeof SUBJECTS.rejected>).data;
    const known = data.update
      ? describe(data.update)
      : Object.fromEntries(
          Object.entries({
            kind: data.entry?.kind ?? 'unknown',
            component: data.entry?.component ?? 'unknown',
            platform: data.entry?.platform,
            version: data.entry?.version ?? 'unknown',
          }).filter(([, v]) => v !== undefined),
        );
    return {
      updateId: data.updateId,
      facts: { ...known, rejection: { stage: data.stage, code: data.code, reason: data.reason } },
    };
  }
  const data = (event as CloudEvent<Exclude<UpdateSubject, typeof SUBJECTS.rejected>>).data;
  const facts = describe(data.update);
  if (subject === SUBJECTS.validated) {
    facts.signer = (event as CloudEvent<typeof SUBJECTS.validated>).data.signer;
  }
  return { updateId: data.update.updateId, facts };
}

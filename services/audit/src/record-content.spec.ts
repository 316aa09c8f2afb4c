import { buildEvent, SUBJECTS, type Subject } from '@sup/contracts';
import type { BatchItem } from '@sup/jetstream';
import { SAMPLE_SIGNER, sampleDescriptor } from '@sup/testing';
import { actionRecord, sourceMsgId, verdictRecord, type VerdictSubject } from './record-content';

const AT = new Date('2026-03-01T10:00:00.000Z');
const UPDATE = sampleDescriptor();

function item<S extends Subject>(type: S, data: Parameters<typeof buildEvent<S>>[1]): BatchItem<S> {
  const entityId = type === SUBJECTS.auditAction ? 'feed-sync-requested-x' : UPDATE.updateId;
  return {
    event: buildEvent(type, data, {
      id: `${entityId}:${type}`,
      source: '/services/test',
      subject: entityId,
    }),
    subject: `${type}.${entityId}`,
    entityId,
    deliveryCount: 1,
    finalAttempt: false,
  };
}

describe('verdictRecord', () => {
  it('records a validation with the update, its signer and the source event', () => {
    const type: VerdictSubject = SUBJECTS.validated;
    const pending = verdictRecord(
      type,
      item(type, {
        update: UPDATE,
        signer: SAMPLE_SIGNER,
        signatureAlgorithm: 'rsa-pkcs1-v1_5',
        digestAlgorithm: 'sha256',
        signedAttributes: true,
        validatedAt: AT.toISOString(),
      }),
      AT,
    );
    expect(pending).toEqual({
      kind: 'source',
      msgId: `audit:${UPDATE.updateId}:${SUBJECTS.validated}`,
      content: {
        at: AT.toISOString(),
        kind: 'verdict',
        source: {
          id: `${UPDATE.updateId}:${SUBJECTS.validated}`,
          type: `io.signed-update-pipeline.${SUBJECTS.validated}`,
          subject: `${SUBJECTS.validated}.${UPDATE.updateId}`,
          time: expect.any(String) as string,
        },
        summary: {
          verdict: 'validated',
          updateId: UPDATE.updateId,
          component: 'agent',
          version: '20.0.1-12345',
          platform: 'linux-x86_64',
          artifactSha256: UPDATE.artifact.sha256,
          origin: 'feed',
          feed: 'acme-active-update',
          syncId: 'sync_0123456789abcdef01234567',
          signer: SAMPLE_SIGNER.subject,
          signerSha256: SAMPLE_SIGNER.sha256Fingerprint,
        },
      },
    });
  });

  it('records a rejection of a bad feed entry, which has no descriptor, by its update id and reason', () => {
    const pending = verdictRecord(
      SUBJECTS.rejected,
      item(SUBJECTS.rejected, {
        updateId: UPDATE.updateId,
        stage: 'feed',
        code: 'path-escape',
        reason: 'the artifact path leaves the feed',
        rejectedAt: AT.toISOString(),
      }),
      AT,
    );
    expect(pending.kind === 'source' && pending.content.summary).toEqual({
      verdict: 'rejected',
      updateId: UPDATE.updateId,
      stage: 'feed',
      code: 'path-escape',
      reason: 'the artifact path leaves the feed',
    });
  });

  it('names the uploader of a manual import as the actor', () => {
    const importedBy = { type: 'token' as const, name: 'ci', role: 'operator' as const };
    const manual = sampleDescriptor({ source: { type: 'manual', importId: 'imp_1', importedBy } });
    const pending = verdictRecord(
      SUBJECTS.imported,
      item(SUBJECTS.imported, { update: manual, importedAt: AT.toISOString() }),
      AT,
    );
    expect(pending.kind === 'source' && pending.content).toMatchObject({
      actor: importedBy,
      summary: { verdict: 'imported', origin: 'manual', importId: 'imp_1' },
    });
  });
});

describe('actionRecord', () => {
  it('records who did what to which target, deduplicated by the action event id', () => {
    const actor = { type: 'oidc' as const, name: 'alice@example.com', role: 'admin' as const };
    const pending = actionRecord(
      item(SUBJECTS.auditAction, {
        action: 'feed-sync-requested',
        actor,
        target: 'sync_0123456789abcdef01234567',
        outcome: 'accepted',
        at: AT.toISOString(),
      }),
      AT,
    );
    expect(pending).toMatchObject({
      msgId: sourceMsgId(`feed-sync-requested-x:${SUBJECTS.auditAction}`),
      content: {
        kind: 'action',
        actor,
        summary: {
          action: 'feed-sync-requested',
          target: 'sync_0123456789abcdef01234567',
          outcome: 'accepted',
          actedAt: AT.toISOString(),
        },
      },
    });
  });
});

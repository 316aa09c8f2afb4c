import { ConflictException, NotFoundException } from '@nestjs/common';
import { buildEvent, SUBJECTS, type Actor, type CloudEvent } from '@sup/contracts';
import { resolveAlert, type AlertView } from '@sup/domain';
import { EventBatch, type BatchItem, type OutgoingEvent } from '@sup/jetstream';
import type { Announcement, AuditEntry, AuditTrail, Outbox } from '@sup/service-kit';
import { MemoryVersionedStore } from '@sup/testing';
import type { AlertProjection } from './alert.repository';
import { AlertsService } from './alerts.service';

type Rejected = typeof SUBJECTS.rejected;
const U1 = 'upd_111111111111111111111111';
const U2 = 'upd_222222222222222222222222';
const A1 = `alert_update-rejected_${U1}`;
const OPERATOR: Actor = { type: 'token', name: 'alice', role: 'operator' };

const rejection = (updateId: string, id: string): BatchItem<Rejected> => {
  const event: CloudEvent<Rejected> = buildEvent(
    SUBJECTS.rejected,
    {
      updateId,
      stage: 'signature',
      code: 'bad-signature',
      reason: 'signature does not verify',
      rejectedAt: '2026-11-29T10:00:00.000Z',
    },
    { id, source: '/services/signature-validator', subject: updateId },
  );
  return {
    event,
    subject: `${SUBJECTS.rejected}.${updateId}`,
    entityId: updateId,
    deliveryCount: 1,
    finalAttempt: false,
  };
};

/** Records what is announced; `failNext` makes the next announcement fail as a whole. */
class RecordingOutbox {
  readonly announced: OutgoingEvent[] = [];
  failNext = false;
  announce(events: readonly OutgoingEvent[]): Promise<Announcement[]> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.resolve(
        events.map(() => ({ state: 'failed', error: new Error('NATS away') })),
      );
    }
    this.announced.push(...events);
    return Promise.resolve(events.map(() => ({ state: 'published', duplicate: false })));
  }
}

function setup() {
  const kv = new MemoryVersionedStore<AlertView>('alerts');
  const writes: number[][] = [];
  const projection = {
    write: (views: { revision: number }[]) => {
      writes.push(views.map((v) => v.revision));
      return Promise.resolve();
    },
  };
  const outbox = new RecordingOutbox();
  const audited: AuditEntry[] = [];
  const audit = {
    record: (entries: readonly AuditEntry[]) => {
      audited.push(...entries);
      return Promise.resolve();
    },
  };
  const service = new AlertsService(
    kv.asStore(),
    projection as unknown as AlertProjection,
    outbox as unknown as Outbox,
    audit as unknown as AuditTrail,
  );
  const reject = async (...items: BatchItem<Rejected>[]) => {
    const batch = new EventBatch<Rejected>(SUBJECTS.rejected, items);
    await service.raiseForRejections(batch);
    return items.map((i) => batch.verdictOf(i).outcome);
  };
  const ids = () => outbox.announced.map((e) => `${e.type}.${e.entityId}`);
  return { kv, writes, outbox, audited, service, reject, ids };
}

describe('AlertsService', () => {
  it('raises one alert per update, announcing each once under its transition number', async () => {
    const t = setup();
    expect(await t.reject(rejection(U1, 'e1'), rejection(U2, 'e2'), rejection(U1, 'e1'))).toEqual([
      'ack',
      'ack',
      'ack',
    ]);
    expect((await t.kv.get(A1))?.value).toMatchObject({ occurrences: 1, state: 'open' });
    expect(new Set(t.ids())).toEqual(
      new Set([
        `${SUBJECTS.alertRaised}.${A1}-1`,
        `${SUBJECTS.alertRaised}.alert_update-rejected_${U2}-1`,
      ]),
    );
    expect(t.writes.flat()).toHaveLength(3);
  });

  it('announces again after a lost announcement when the rejection is redelivered', async () => {
    const t = setup();
    t.outbox.failNext = true;
    expect(await t.reject(rejection(U1, 'e1'))).toEqual(['retry']);
    expect(t.ids()).toEqual([]);
    // The alert was stored; the redelivery counts nothing but finds its transition to announce.
    expect(await t.reject(rejection(U1, 'e1'))).toEqual(['ack']);
    expect(t.ids()).toEqual([`${SUBJECTS.alertRaised}.${A1}-1`]);
    expect((await t.kv.get(A1))?.value.occurrences).toBe(1);
  });

  it('counts a new rejection event of the same update without a new announcement', async () => {
    const t = setup();
    await t.reject(rejection(U1, 'e1'));
    await t.reject(rejection(U1, 'e9'));
    expect((await t.kv.get(A1))?.value).toMatchObject({ occurrences: 2, seq: 2 });
    expect(t.ids()).toEqual([`${SUBJECTS.alertRaised}.${A1}-1`]);
  });

  it('acknowledges once, audits it, and answers a repeat with the same event and audit ids', async () => {
    const t = setup();
    await t.reject(rejection(U1, 'e1'));
    const at = new Date('2026-11-29T11:00:00.000Z');
    const first = await t.service.acknowledge(A1, OPERATOR, at);
    expect(first).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alice' });
    const again = await t.service.acknowledge(A1, { ...OPERATOR, name: 'bob' }, new Date());
    expect(again.acknowledgedBy).toBe('alice');
    const acks = t.ids().filter((id) => id.startsWith(SUBJECTS.alertAcknowledged));
    expect(acks).toEqual([
      `${SUBJECTS.alertAcknowledged}.${A1}-2`,
      `${SUBJECTS.alertAcknowledged}.${A1}-2`,
    ]);
    // Bob's repeat changed nothing: not his action to audit. Alice's retry repeats her record.
    await t.service.acknowledge(A1, OPERATOR, new Date());
    expect(t.audited.map((a) => [a.id, a.action, a.actor.name, a.target])).toEqual([
      [`alert-acknowledged-${A1}-2`, 'alert-acknowledged', 'alice', A1],
      [`alert-acknowledged-${A1}-2`, 'alert-acknowledged', 'alice', A1],
    ]);
  });

  it('refuses to acknowledge an unknown (404) or a resolved (409) alert', async () => {
    const t = setup();
    await expect(t.service.acknowledge(A1, OPERATOR)).rejects.toThrow(NotFoundException);
    await t.reject(rejection(U1, 'e1'));
    const stored = await t.kv.get(A1);
    t.kv.set(A1, resolveAlert(stored!.value, 'test', '2026-11-29T12:00:00.000Z').view);
    await expect(t.service.acknowledge(A1, OPERATOR)).rejects.toThrow(ConflictException);
    expect(t.audited).toEqual([]);
  });

  it('resolves open alerts once, announcing alerts.v1.resolved; unknown ids are skipped', async () => {
    const t = setup();
    await t.reject(rejection(U1, 'e1'));
    const resolutions = [
      { alertId: A1, reason: 'condition ended' },
      { alertId: 'alert_update-rejected_nope', reason: 'x' },
    ];
    await t.service.resolve(resolutions, new Date('2026-11-29T12:00:00.000Z'));
    await t.service.resolve(resolutions);
    expect((await t.kv.get(A1))?.value).toMatchObject({
      state: 'resolved',
      resolveReason: 'condition ended',
      resolvedAt: '2026-11-29T12:00:00.000Z',
    });
    const resolved = t.outbox.announced.filter((e) => e.type === SUBJECTS.alertResolved);
    expect(resolved.map((e) => e.entityId)).toEqual([`${A1}-2`, `${A1}-2`]);
    expect(resolved[0].data).toMatchObject({ alertId: A1, reason: 'condition ended' });
  });

  it('a state rule transition whose announcement was lost is sent by the sweep, once', async () => {
    const t = setup();
    const observation = {
      rule: 'relay-unavailable',
      subject: 'relay-1',
      severity: 'critical' as const,
      summary: 'relay-1 silent',
      details: {},
      observationId: 'silent-since-x',
      at: '2026-11-29T10:00:00.000Z',
    };
    // The KV changes, then the announcement fails (as if the process died in between).
    t.outbox.failNext = true;
    await expect(t.service.observeAll([observation], { perEpisode: true })).rejects.toThrow(
      'NATS away',
    );
    // The next evaluation finds the condition already counted: nothing to announce.
    await t.service.observeAll([observation], { perEpisode: true });
    expect(t.ids()).toEqual([]);
    expect(await t.service.announcePending()).toBe(1);
    expect(t.ids()).toEqual([`${SUBJECTS.alertRaised}.alert_relay-unavailable_relay-1-1`]);
    expect(await t.service.announcePending()).toBe(0);
    expect(t.ids()).toHaveLength(1);
  });

  it('marks what it announced, so the sweep finds nothing left', async () => {
    const t = setup();
    await t.reject(rejection(U1, 'e1'));
    await t.service.resolve([{ alertId: A1, reason: 'condition ended' }]);
    const before = t.ids().length;
    expect((await t.kv.get(A1))?.value.announcedSeq).toBe(2);
    expect(await t.service.announcePending()).toBe(0);
    expect(t.ids()).toHaveLength(before);
  });
});

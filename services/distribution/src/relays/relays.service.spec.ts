import type { Actor } from '@sup/contracts';
import type { EventPublisher, OutgoingEvent, PublishOutcome } from '@sup/jetstream';
import type { AuditTrail } from '@sup/service-kit';
import type { PublishedUpdates } from './published-updates';
import type { RelayDirectory } from './relay-directory';
import type { RelaysRepository } from './relays.repository';
import { RelaysService } from './relays.service';

const relay = (name: string): Actor => ({ type: 'token', name, role: 'relay' });
const KNOWN = 'upd_0123456789abcdef01234567';
const UNKNOWN = 'upd_000000000000000000000000';

/**
 * The stream's rule for decisions, in memory: one message per subject, a repeat is a duplicate
 * (what `Nats-Expected-Last-Subject-Sequence: 0` gives on JetStream).
 */
class OncePerSubject {
  readonly subjects: string[] = [];
  publishAll(events: readonly OutgoingEvent[]): Promise<PublishOutcome[]> {
    return Promise.resolve(
      events.map((e) => {
        const subject = `${e.type}.${e.entityId}`;
        const duplicate = this.subjects.includes(subject);
        if (!duplicate) this.subjects.push(subject);
        return {
          ok: true,
          duplicate,
          seq: this.subjects.length,
          stream: 'UPDATES',
        } as PublishOutcome;
      }),
    );
  }
}

describe('RelaysService.results', () => {
  const setup = (groups: Record<string, string>) => {
    const publisher = new OncePerSubject();
    const directory = { groupOf: (id: string) => Promise.resolve(groups[id]) };
    const published = {
      get: (id: string) =>
        Promise.resolve(id === KNOWN ? { update: {}, withdrawn: false } : undefined),
    };
    const service = new RelaysService(
      {} as RelaysRepository,
      directory as unknown as RelayDirectory,
      published as unknown as PublishedUpdates,
      publisher as unknown as EventPublisher,
      {} as AuditTrail,
    );
    return { service, publisher };
  };
  const relayed = { updateId: KNOWN, state: 'relayed' as const, sha256: 'a'.repeat(64) };

  it('publishes relayed once per (update, relay) and each failure attempt once', async () => {
    const { service, publisher } = setup({ r1: 'site-a' });
    expect(await service.results('r1', relay('r1'), [relayed])).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    expect(await service.results('r1', relay('r1'), [relayed, relayed])).toEqual({
      accepted: 0,
      duplicates: 2,
    });
    const failed = {
      updateId: KNOWN,
      state: 'failed' as const,
      code: 'digest-mismatch' as const,
      reason: 'x',
    };
    await service.results('r1', relay('r1'), [
      { ...failed, attempt: 1 },
      { ...failed, attempt: 2 },
    ]);
    expect(publisher.subjects).toEqual([
      `updates.v1.relayed.${KNOWN}-r1`,
      `updates.v1.relay-failed.${KNOWN}-r1-1`,
      `updates.v1.relay-failed.${KNOWN}-r1-2`,
    ]);
  });

  it('refuses the whole batch, publishing nothing: another relay, an unknown relay, an unknown update', async () => {
    const { service, publisher } = setup({ r1: 'site-a' });
    await expect(service.results('r1', relay('r2'), [relayed])).rejects.toMatchObject({
      status: 403,
      response: { code: 'relay-mismatch' },
    });
    await expect(service.results('r3', relay('r3'), [relayed])).rejects.toMatchObject({
      status: 409,
      response: { code: 'unknown-relay' },
    });
    await expect(
      service.results('r1', relay('r1'), [relayed, { ...relayed, updateId: UNKNOWN }]),
    ).rejects.toMatchObject({
      status: 404,
      response: { code: 'unknown-update', details: [UNKNOWN] },
    });
    expect(publisher.subjects).toEqual([]);
  });
});

import { SUBJECTS } from '@sup/contracts';
import { backoffFor, consumerConfig, durableName, redeliveryBackoffMs } from './consumer-config';
import { streamForSubject, subjectMatches } from './streams';

const settings = {
  maxDeliver: 5,
  backoffMs: [1_000, 5_000, 15_000, 30_000],
  ackWaitMs: 30_000,
  maxAckPending: 1_000,
};

describe('consumer settings', () => {
  it('names durables after service, consumer and subject, with no characters NATS forbids', () => {
    expect(durableName('checksum', 'main', SUBJECTS.imported)).toBe(
      'checksum-main-updates_v1_imported',
    );
    expect(durableName('catalog', 'projection', 'updates.v1.>')).toBe(
      'catalog-projection-updates_v1_all',
    );
    expect(durableName('a.b', 'c d', 'x.*')).toBe('a_b-c_d-x_any');
  });

  it('picks the back-off of the attempt that failed, repeating the last entry', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffFor(settings.backoffMs, n))).toEqual([
      1_000, 5_000, 15_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('keeps the full ack wait on every attempt and a spare delivery beyond maxDeliver', () => {
    expect(redeliveryBackoffMs(settings)).toEqual([31_000, 35_000, 45_000, 60_000, 60_000]);
    const config = consumerConfig('d', SUBJECTS.imported, 'desc', settings);
    expect(config.max_deliver).toBe(6);
    // JetStream rejects a backoff list that is not shorter than max_deliver.
    expect(config.backoff!.length).toBeLessThan(config.max_deliver!);
    expect(Math.min(...config.backoff!)).toBeGreaterThanOrEqual(config.ack_wait!);
    expect(config).toMatchObject({
      durable_name: 'd',
      filter_subject: SUBJECTS.imported,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_ack_pending: 1_000,
    });
  });

  it('maps every contract subject to the stream that captures it', () => {
    expect(streamForSubject(SUBJECTS.imported).name).toBe('UPDATES');
    expect(streamForSubject(SUBJECTS.alertResolved).name).toBe('ALERTS');
    expect(streamForSubject(SUBJECTS.syncRequested).name).toBe('FEEDS');
    expect(() => streamForSubject('nothing.here')).toThrow('no stream');
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
  });
});

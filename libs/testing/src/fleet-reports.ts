import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { buildEvent, entitySubject, SUBJECTS, type FleetReport } from '@sup/contracts';

/**
 * Publishes a fleet report as an agent does over NATS: the `fleet.v1.reported` event on the
 * computer's own subject, its event id doubling as the message id (a repeat is a duplicate).
 */
export function publishFleetReport(
  nc: NatsConnection,
  report: FleetReport,
  id: string,
  options: { source?: string; receivedAt?: string } = {},
) {
  return jetstream(nc).publish(
    entitySubject(SUBJECTS.fleetReported, report.id),
    JSON.stringify(
      buildEvent(
        SUBJECTS.fleetReported,
        { report, receivedAt: options.receivedAt ?? new Date().toISOString() },
        { id, source: options.source ?? '/agents/test', subject: report.id },
      ),
    ),
    { msgID: id },
  );
}

import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  SUBJECTS,
  type FleetReport,
  type FleetReportsAccepted,
  type FleetSummary,
  type ListFleetQuery,
} from '@sup/contracts';
import {
  latestPerComputer,
  newestPerComponent,
  reportDigest,
  summarizeSecurityUpdates,
  writeLatest,
} from '@sup/domain';
import { EventBatch, EventPublisher, type OutgoingEvent } from '@sup/jetstream';
import { FleetWinners } from './fleet-winners';
import { FleetRepository, toComputer } from './fleet.repository';

type Batch = EventBatch<typeof SUBJECTS.fleetReported>;

@Injectable()
export class FleetService {
  constructor(
    private readonly repository: FleetRepository,
    private readonly winners: FleetWinners,
    private readonly publisher: EventPublisher,
  ) {}

  /**
   * Publishes posted reports as `fleet.v1.reported.<id>`, pipelined, and answers once JetStream
   * stored them all: the read model follows from the stream like for reports sent over NATS. The
   * message id is the report's digest, so a batch posted again (a lost answer) is a duplicate.
   * When some publish fails the whole call fails (503): posting the batch again is safe.
   */
  async submit(reports: readonly FleetReport[]): Promise<FleetReportsAccepted> {
    const receivedAt = new Date().toISOString();
    const events: OutgoingEvent[] = reports.map((report) => ({
      type: SUBJECTS.fleetReported,
      entityId: report.id,
      id: `fleet-${report.id}-${reportDigest(report)}`,
      data: { report, receivedAt },
      replaces: true,
    }));
    const outcomes = await this.publisher.publishAll(events);
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed > 0) {
      throw new ServiceUnavailableException(
        `${failed} of ${reports.length} reports could not be stored; post the batch again`,
      );
    }
    const duplicates = outcomes.filter((o) => o.ok && o.duplicate).length;
    return { accepted: reports.length - duplicates, duplicates };
  }

  /**
   * Writes a batch of reports to the read model: the latest per computer, claimed in the KV
   * bucket and written through by `_id` (see `writeLatest`). A report whose subject names another computer than its body is refused (a
   * reporter may only speak for the computer its subject names).
   */
  async applyBatch(batch: Batch): Promise<void> {
    const valid = batch.items.filter((item) => {
      if (item.entityId === item.event.data.report.id) return true;
      batch.deadLetter(
        item,
        new Error(
          `report of computer ${item.event.data.report.id} published on the subject of ${item.entityId}`,
        ),
      );
      return false;
    });
    const latest = latestPerComputer(valid.map((item) => item.event.data));
    await writeLatest(
      this.winners,
      this.repository,
      latest.map(({ item, rank }) => ({ key: item.report.id, value: { rank, reported: item } })),
    );
  }

  async list(query: ListFleetQuery) {
    const { docs, total } = await this.repository.page(query);
    return { items: docs.map(toComputer), total, limit: query.limit, offset: query.offset };
  }

  async summary(): Promise<FleetSummary> {
    const [total, lines, versions, published] = await Promise.all([
      this.repository.total(),
      this.repository.countLines(),
      this.repository.countSecurityVersions(),
      this.repository.publishedSecurityUpdates(),
    ]);
    const key = (l: { role: string; platform: string; line: string }) =>
      `${l.role}\u0000${l.platform}\u0000${l.line}`;
    return {
      total,
      lines: lines
        .map((l) => ({ ...l, role: l.role as FleetReport['role'] }))
        .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)),
      securityUpdates: summarizeSecurityUpdates(versions, newestPerComponent(published)),
    };
  }
}

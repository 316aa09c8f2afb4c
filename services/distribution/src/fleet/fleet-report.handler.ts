import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { FleetService } from './fleet.service';

/** Feeds the fleet read model from `fleet.v1.reported.*` (reports over NATS and over REST). */
@Controller()
export class FleetReportHandler {
  constructor(private readonly fleet: FleetService) {}

  @OnEvents(SUBJECTS.fleetReported, { consumer: 'fleet' })
  onReported(@Payload() batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    return this.fleet.applyBatch(batch);
  }
}

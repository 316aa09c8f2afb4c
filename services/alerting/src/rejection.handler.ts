import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { AlertsService } from './alerts.service';

@Controller()
export class RejectionHandler {
  constructor(private readonly alerts: AlertsService) {}

  @OnEvents(SUBJECTS.rejected)
  onRejected(@Payload() batch: EventBatch<typeof SUBJECTS.rejected>): Promise<void> {
    return this.alerts.raiseForRejections(batch);
  }
}

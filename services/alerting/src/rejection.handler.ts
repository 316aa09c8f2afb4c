import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { AlertsService } from './alerts.service';

@Controller()
export class RejectionHandler {
  constructor(private readonly alerts: AlertsService) {}

  @OnEvent(SUBJECTS.rejected)
  async onRejected(@Payload() event: CloudEvent<typeof SUBJECTS.rejected>): Promise<void> {
    await this.alerts.raiseForRejection(event.data);
  }
}

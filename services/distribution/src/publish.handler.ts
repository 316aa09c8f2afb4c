import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { CatalogService } from './catalog.service';

@Controller()
export class PublishHandler {
  constructor(private readonly catalog: CatalogService) {}

  @OnEvent(SUBJECTS.validated)
  async onValidated(@Payload() event: CloudEvent<typeof SUBJECTS.validated>): Promise<void> {
    await this.catalog.publish(event.data);
  }
}

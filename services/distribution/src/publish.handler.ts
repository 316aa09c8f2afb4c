import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { CatalogService } from './catalog.service';

@Controller()
export class PublishHandler {
  constructor(private readonly catalog: CatalogService) {}

  @OnEvents(SUBJECTS.validated)
  onValidated(@Payload() batch: EventBatch<typeof SUBJECTS.validated>): Promise<void> {
    return this.catalog.publishBatch(batch);
  }
}

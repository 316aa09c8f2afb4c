import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { ArtifactJanitor } from './artifact-janitor.service';

@Controller()
export class RejectionHandler {
  constructor(private readonly janitor: ArtifactJanitor) {}

  @OnEvents(SUBJECTS.rejected, { consumer: 'janitor' })
  onRejected(@Payload() batch: EventBatch<typeof SUBJECTS.rejected>): Promise<void> {
    return this.janitor.discardBatch(batch);
  }
}

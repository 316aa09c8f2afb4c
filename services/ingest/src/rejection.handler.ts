import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { ArtifactJanitor } from './artifact-janitor.service';

@Controller()
export class RejectionHandler {
  constructor(private readonly janitor: ArtifactJanitor) {}

  @OnEvent(SUBJECTS.rejected, { consumer: 'janitor' })
  async onRejected(@Payload() event: CloudEvent<typeof SUBJECTS.rejected>): Promise<void> {
    await this.janitor.discard(event.data);
  }
}

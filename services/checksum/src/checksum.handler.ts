import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { ChecksumService } from './checksum.service';

@Controller()
export class ChecksumHandler {
  constructor(private readonly checksum: ChecksumService) {}

  @OnEvent(SUBJECTS.imported)
  async onImported(@Payload() event: CloudEvent<typeof SUBJECTS.imported>): Promise<void> {
    await this.checksum.verify(event.data.update);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { ChecksumService } from './checksum.service';

@Controller()
export class ChecksumHandler {
  constructor(private readonly checksum: ChecksumService) {}

  @OnEvents(SUBJECTS.imported)
  onImported(@Payload() batch: EventBatch<typeof SUBJECTS.imported>): Promise<void> {
    return this.checksum.verifyBatch(batch);
  }
}

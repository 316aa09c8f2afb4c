import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { SignatureService } from './signature.service';

@Controller()
export class SignatureHandler {
  constructor(private readonly signatures: SignatureService) {}

  @OnEvents(SUBJECTS.checksumVerified)
  onChecksumVerified(
    @Payload() batch: EventBatch<typeof SUBJECTS.checksumVerified>,
  ): Promise<void> {
    return this.signatures.validateBatch(batch);
  }
}

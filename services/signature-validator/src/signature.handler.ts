import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { SignatureService } from './signature.service';

@Controller()
export class SignatureHandler {
  constructor(private readonly signatures: SignatureService) {}

  @OnEvent(SUBJECTS.checksumVerified)
  async onChecksumVerified(
    @Payload() event: CloudEvent<typeof SUBJECTS.checksumVerified>,
  ): Promise<void> {
    await this.signatures.validate(event.data.update);
  }
}

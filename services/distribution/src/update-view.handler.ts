import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { UpdateViewService, type UpdateSubject } from './update-view.service';

/** Feeds the read model behind GET /v1/updates; a consumer of its own, apart from publishing. */
@Controller()
export class UpdateViewHandler {
  constructor(private readonly view: UpdateViewService) {}

  @OnEvent(SUBJECTS.imported, { consumer: 'view' })
  onImported(@Payload() e: CloudEvent<UpdateSubject>): Promise<void> {
    return this.view.apply(SUBJECTS.imported, e);
  }

  @OnEvent(SUBJECTS.checksumVerified, { consumer: 'view' })
  onChecksumVerified(@Payload() e: CloudEvent<UpdateSubject>): Promise<void> {
    return this.view.apply(SUBJECTS.checksumVerified, e);
  }

  @OnEvent(SUBJECTS.validated, { consumer: 'view' })
  onValidated(@Payload() e: CloudEvent<UpdateSubject>): Promise<void> {
    return this.view.apply(SUBJECTS.validated, e);
  }

  @OnEvent(SUBJECTS.published, { consumer: 'view' })
  onPublished(@Payload() e: CloudEvent<UpdateSubject>): Promise<void> {
    return this.view.apply(SUBJECTS.published, e);
  }

  @OnEvent(SUBJECTS.rejected, { consumer: 'view' })
  onRejected(@Payload() e: CloudEvent<UpdateSubject>): Promise<void> {
    return this.view.apply(SUBJECTS.rejected, e);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import type { UpdateEventType } from '@sup/domain';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { UpdateViewService } from './update-view.service';

type Batch = EventBatch<UpdateEventType>;

/** Feeds the read model behind GET /v1/updates; a consumer of its own, apart from publishing. */
@Controller()
export class UpdateViewHandler {
  constructor(private readonly view: UpdateViewService) {}

  @OnEvents(SUBJECTS.imported, { consumer: 'view' })
  onImported(@Payload() batch: Batch): Promise<void> {
    return this.view.applyBatch(SUBJECTS.imported, batch);
  }

  @OnEvents(SUBJECTS.checksumVerified, { consumer: 'view' })
  onChecksumVerified(@Payload() batch: Batch): Promise<void> {
    return this.view.applyBatch(SUBJECTS.checksumVerified, batch);
  }

  @OnEvents(SUBJECTS.validated, { consumer: 'view' })
  onValidated(@Payload() batch: Batch): Promise<void> {
    return this.view.applyBatch(SUBJECTS.validated, batch);
  }

  @OnEvents(SUBJECTS.published, { consumer: 'view' })
  onPublished(@Payload() batch: Batch): Promise<void> {
    return this.view.applyBatch(SUBJECTS.published, batch);
  }

  @OnEvents(SUBJECTS.rejected, { consumer: 'view' })
  onRejected(@Payload() batch: Batch): Promise<void> {
    return this.view.applyBatch(SUBJECTS.rejected, batch);
  }
}

import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent, type JetStreamEventContext } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import type { IngestConfig } from './config';
import { FeedSyncService } from './feed-sync.service';

@Controller()
export class SyncRequestHandler {
  constructor(
    private readonly syncs: FeedSyncService,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
  ) {}

  @OnEvent(SUBJECTS.syncRequested)
  async onSyncRequested(
    @Payload() event: CloudEvent<typeof SUBJECTS.syncRequested>,
    @Ctx() ctx: JetStreamEventContext,
  ): Promise<void> {
    const finalAttempt = ctx.deliveryCount >= this.config.jetstream.maxDeliver;
    await this.syncs.run(event.data.syncId, event.data.url, finalAttempt);
  }
}

import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { SUBJECTS, type CloudEvent } from '@sup/contracts';
import { OnEvent, type JetStreamEventContext } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import { Inject } from '@nestjs/common';
import type { IngestConfig } from '../config';
import { SyncRunner } from './sync-runner.service';

@Controller()
export class SyncRequestHandler {
  constructor(
    private readonly runner: SyncRunner,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
  ) {}

  @OnEvent(SUBJECTS.syncRequested)
  async onSyncRequested(
    @Payload() event: CloudEvent<typeof SUBJECTS.syncRequested>,
    @Ctx() ctx: JetStreamEventContext,
  ): Promise<void> {
    const { syncId, url, requestedAt } = event.data;
    const finalAttempt = ctx.deliveryCount >= this.config.jetstream.maxDeliver;
    await this.runner.run(syncId, url, requestedAt, finalAttempt);
  }
}

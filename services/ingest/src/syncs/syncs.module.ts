import { Module } from '@nestjs/common';
import { TrustModule } from '../trust/trust.module';
import { FeedsController } from './feeds.controller';
import { SyncRequestHandler } from './sync-request.handler';
import { SyncRequests } from './sync-requests.service';
import { SyncRunner } from './sync-runner.service';
import { SyncScheduler } from './sync-scheduler';
import { SyncSweeper } from './sync-sweeper';

/** Sync API, scheduler, the runner that verifies an index and fans it out, and the sweeper. */
@Module({
  imports: [TrustModule],
  controllers: [FeedsController, SyncRequestHandler],
  providers: [SyncRequests, SyncRunner, SyncScheduler, SyncSweeper],
  exports: [SyncRequests],
})
export class SyncsModule {}

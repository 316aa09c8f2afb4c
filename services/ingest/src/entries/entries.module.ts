import { Module } from '@nestjs/common';
import { SyncsModule } from '../syncs/syncs.module';
import { EntryHandler } from './entry.handler';
import { EntryImporter } from './entry-importer.service';
import { EntryWorker } from './entry-worker.service';

/** The fan-out's workers: one feed entry at a time, many in a batch, on any replica. */
@Module({
  imports: [SyncsModule],
  controllers: [EntryHandler],
  providers: [EntryImporter, EntryWorker],
})
export class EntriesModule {}

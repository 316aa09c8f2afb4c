import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { EntryWorker } from './entry-worker.service';

@Controller()
export class EntryHandler {
  constructor(private readonly worker: EntryWorker) {}

  @OnEvents(SUBJECTS.entryRequested)
  onEntryRequested(@Payload() batch: EventBatch<typeof SUBJECTS.entryRequested>): Promise<void> {
    return this.worker.importBatch(batch);
  }
}

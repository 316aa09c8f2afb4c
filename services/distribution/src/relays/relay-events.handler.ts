import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { RelayEventsService } from './relay-events.service';

const CONSUMER = { consumer: 'relays' };

/** The `relays` durables: thin, each batch goes to RelayEventsService. */
@Controller()
export class RelayEventsHandler {
  constructor(private readonly events: RelayEventsService) {}

  @OnEvents(SUBJECTS.fleetReported, CONSUMER)
  onReported(@Payload() batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    return this.events.applyReports(batch);
  }

  @OnEvents(SUBJECTS.relayed, CONSUMER)
  onRelayed(@Payload() batch: EventBatch<typeof SUBJECTS.relayed>): Promise<void> {
    return this.events.applyRelayed(batch);
  }

  @OnEvents(SUBJECTS.relayFailed, CONSUMER)
  onRelayFailed(@Payload() batch: EventBatch<typeof SUBJECTS.relayFailed>): Promise<void> {
    return this.events.applyFailed(batch);
  }

  @OnEvents(SUBJECTS.withdrawn, CONSUMER)
  onWithdrawn(@Payload() batch: EventBatch<typeof SUBJECTS.withdrawn>): Promise<void> {
    return this.events.applyWithdrawn(batch);
  }

  @OnEvents(SUBJECTS.published, CONSUMER)
  onPublished(@Payload() batch: EventBatch<typeof SUBJECTS.published>): Promise<void> {
    return this.events.applyPublished(batch);
  }
}

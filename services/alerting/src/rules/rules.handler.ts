import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS } from '@sup/contracts';
import { EventBatch, OnEvents } from '@sup/jetstream';
import { RulesProjection } from './rules-projection';

export const RULES_CONSUMER = 'rules';

/** The durable `rules`: what the fleet and catalog rules read (grants in nats-permissions.ts). */
@Controller()
export class RulesHandler {
  constructor(private readonly projection: RulesProjection) {}

  @OnEvents(SUBJECTS.fleetReported, { consumer: RULES_CONSUMER })
  onReported(@Payload() batch: EventBatch<typeof SUBJECTS.fleetReported>): Promise<void> {
    return this.projection.onReported(batch);
  }

  @OnEvents(SUBJECTS.published, { consumer: RULES_CONSUMER })
  onPublished(@Payload() batch: EventBatch<typeof SUBJECTS.published>): Promise<void> {
    return this.projection.onPublished(batch);
  }

  @OnEvents(SUBJECTS.withdrawn, { consumer: RULES_CONSUMER })
  onWithdrawn(@Payload() batch: EventBatch<typeof SUBJECTS.withdrawn>): Promise<void> {
    return this.projection.onWithdrawn(batch);
  }

  @OnEvents(SUBJECTS.relayed, { consumer: RULES_CONSUMER })
  onRelayed(@Payload() batch: EventBatch<typeof SUBJECTS.relayed>): Promise<void> {
    return this.projection.onRelayed(batch);
  }

  @OnEvents(SUBJECTS.relayFailed, { consumer: RULES_CONSUMER })
  onRelayFailed(@Payload() batch: EventBatch<typeof SUBJECTS.relayFailed>): Promise<void> {
    return this.projection.onRelayFailed(batch);
  }
}

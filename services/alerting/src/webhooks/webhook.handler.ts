import { Controller, Inject } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { SUBJECTS, type AlertSubject, type CloudEvent } from '@sup/contracts';
import { OnEvent } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import type { AlertingConfig } from '../config';
import { deliverWebhook } from './webhook-delivery';

export const WEBHOOK_CONSUMER = 'webhook';

/**
 * Delivers every alert event to the configured webhooks from durables of its own on ALERTS, so a
 * slow or failing sink holds up only this consumer, never rule evaluation. A failed delivery throws:
 * JetStream redelivers after `JS_BACKOFF_MS`, and after `JS_MAX_DELIVER` attempts the event goes to
 * `dlq.v1.alerting.<subject>` with the error (the sinks' URLs and statuses, never their secrets).
 * Delivery is at least once: a redelivery posts to every sink again, so receivers dedupe by the
 * `X-Sup-Event-Id` header.
 */
@Controller()
export class WebhookHandler {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: AlertingConfig) {}

  @OnEvent(SUBJECTS.alertRaised, { consumer: WEBHOOK_CONSUMER })
  onRaised(@Payload() event: CloudEvent<AlertSubject>) {
    return this.deliver(event);
  }

  @OnEvent(SUBJECTS.alertResolved, { consumer: WEBHOOK_CONSUMER })
  onResolved(@Payload() event: CloudEvent<AlertSubject>) {
    return this.deliver(event);
  }

  @OnEvent(SUBJECTS.alertAcknowledged, { consumer: WEBHOOK_CONSUMER })
  onAcknowledged(@Payload() event: CloudEvent<AlertSubject>) {
    return this.deliver(event);
  }

  private async deliver(event: CloudEvent<AlertSubject>): Promise<void> {
    const { sinks, timeoutMs } = this.config.webhooks;
    if (sinks.length === 0) return;
    await deliverWebhook(
      sinks,
      { id: event.id, type: event.type, body: JSON.stringify(event) },
      { timeoutMs },
    );
  }
}

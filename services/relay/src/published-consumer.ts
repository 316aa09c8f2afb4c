import { jetstream, type Consumer, type JsMsg } from '@nats-io/jetstream';
import { parseEvent, relayDurable, SUBJECTS } from '@sup/contracts';
import {
  backoffFor,
  consumerConfig,
  ensureConsumer,
  type JetStreamConnection,
} from '@sup/jetstream';
import type { Logger } from 'pino';
import type { RelayConfig } from './config';
import type { RelayService } from './relay.service';
import { DownloadError } from './resumable-download';

/** Deliveries of a publication the group catalog does not list yet before it is taken as withdrawn. */
const NOT_VISIBLE_ATTEMPTS = 5;
/** Longer than the control plane's catalog snapshot (1 s), times the attempt. */
const CATALOG_SETTLE_MS = 1_500;

/**
 * The relay's own durable `relay-<id>` on `updates.v1.published.*`: an offline relay finds every
 * publication it missed when it returns. A message is acked only after the result reached the
 * control plane; a transient failure is nak'd with the back-off of JS_BACKOFF_MS, and the last
 * allowed delivery reports `download-failed` and acks (the relay has no dead-letter grant: the
 * control plane's `relay-failed` event and its alert are the record).
 */
export class PublishedConsumer {
  private stopping = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly durable: string;

  constructor(
    private readonly connection: JetStreamConnection,
    private readonly relay: RelayService,
    private readonly config: RelayConfig,
    private readonly logger: Logger,
  ) {
    this.durable = relayDurable(config.relayId);
  }

  async start(): Promise<void> {
    const stream = 'UPDATES'; // the relay's NATS user is granted this stream by name
    const { maxDeliver, backoffMs, ackWaitMs, concurrency } = this.config.jetstream;
    await ensureConsumer(
      this.connection.jsm,
      stream,
      consumerConfig(
        this.durable,
        `${SUBJECTS.published}.*`,
        `relay ${this.config.relayId}: published updates to verify and cache`,
        { maxDeliver, backoffMs, ackWaitMs, maxAckPending: concurrency * 4 },
      ),
    );
    const consumer = await jetstream(this.connection.nc).consumers.get(stream, this.durable);
    this.loop = this.run(consumer);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(consumer: Consumer): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const batch = await consumer.fetch({
          max_messages: this.config.jetstream.concurrency,
          expires: 2_000,
        });
        const handled: Promise<void>[] = [];
        for await (const msg of batch) handled.push(this.handle(msg));
        await Promise.all(handled);
        failures = 0;
      } catch (error) {
        failures++;
        const pauseMs = Math.min(30_000, 250 * 2 ** failures);
        this.logger.warn({ err: error, retryInMs: pauseMs }, 'pulling published updates failed');
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    // A large download may outlast the ack wait: "working" keeps the message ours meanwhile.
    const keepAlive = setInterval(() => msg.working(), this.config.jetstream.ackWaitMs / 3);
    let updateId = '(unreadable)';
    try {
      const event = parseEvent(SUBJECTS.published, msg.json());
      updateId = event.data.update.updateId;
      const outcome = await this.relay.relay(updateId);
      const attempt = msg.info.deliveryCount;
      if (
        outcome === 'not-in-catalog' &&
        attempt < Math.min(NOT_VISIBLE_ATTEMPTS, this.config.jetstream.maxDeliver)
      ) {
        // The control plane's catalog is a snapshot of up to a second and its own consumer of
        // this event may not have run yet: a publication seen here first is not in it yet. Only
        // a withdrawn update stays out, and it costs a few catalog reads before it is let go.
        this.logger.debug({ updateId, attempt }, 'published update not in the catalog yet');
        msg.nak(CATALOG_SETTLE_MS * attempt);
        return;
      }
      this.logger.info({ updateId, correlationId: updateId, outcome }, 'published update handled');
      msg.ack();
    } catch (error) {
      const attempt = msg.info.deliveryCount;
      const last = attempt >= this.config.jetstream.maxDeliver;
      this.logger.warn({ err: error, updateId, attempt, last }, 'published update not handled');
      if (!last) {
        msg.nak(backoffFor(this.config.jetstream.backoffMs, attempt));
        return;
      }
      try {
        const reason = error instanceof Error ? error.message : String(error);
        if (updateId !== '(unreadable)')
          await this.relay.reportFailure(
            updateId,
            'download-failed',
            error instanceof DownloadError ? reason : `gave up: ${reason}`,
          );
        msg.ack();
      } catch (reportError) {
        // The control plane is unreachable too: the spare delivery tries once more.
        this.logger.error({ err: reportError, updateId }, 'cannot report the failure');
        msg.nak(backoffFor(this.config.jetstream.backoffMs, attempt));
      }
    } finally {
      clearInterval(keepAlive);
    }
  }
}

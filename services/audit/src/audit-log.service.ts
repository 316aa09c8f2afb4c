import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { SUBJECTS } from '@sup/contracts';
import type { EventBatch } from '@sup/jetstream';
import { ROOT_LOGGER } from '@sup/service-kit';
import type { Logger } from 'pino';
import { ChainAppender } from './chain-appender';
import { actionRecord, verdictRecord, type VerdictSubject } from './record-content';

export const CHECKPOINT_MS = Symbol('CHECKPOINT_MS');

/**
 * What the handlers call: turns each batch into records and resolves once they are on the chain,
 * so the messages are acknowledged only then. A checkpoint timer runs on every replica; the
 * chain's compare-and-set keeps two of them from anchoring the same head twice.
 */
@Injectable()
export class AuditLog implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private checkpointing: Promise<void> | undefined;

  constructor(
    private readonly appender: ChainAppender,
    @Inject(CHECKPOINT_MS) private readonly checkpointMs: number,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  recordVerdicts(batch: EventBatch<VerdictSubject>): Promise<void> {
    const now = new Date();
    return this.appender.append(batch.items.map((item) => verdictRecord(batch.type, item, now)));
  }

  recordActions(batch: EventBatch<typeof SUBJECTS.auditAction>): Promise<void> {
    const now = new Date();
    return this.appender.append(batch.items.map((item) => actionRecord(item, now)));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.checkpointing ??= this.appender
        .checkpointIfDue()
        .catch((err: unknown) => this.logger.warn({ err }, 'audit checkpoint failed'))
        .finally(() => (this.checkpointing = undefined));
    }, this.checkpointMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpointing;
  }
}

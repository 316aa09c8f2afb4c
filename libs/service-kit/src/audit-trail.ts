import { Inject, Injectable } from '@nestjs/common';
import { isEntityToken, SUBJECTS, type AuditAction } from '@sup/contracts';
import { Outbox } from './outbox';
import { decision } from './outcomes';

/** One operator action to record; `id` must be the same on a retry of the same action. */
export interface AuditEntry extends Omit<AuditAction, 'at'> {
  /** Deterministic, e.g. `feed-sync-requested-<sync id>`: a retry is then a duplicate. */
  id: string;
  at?: Date;
}

/**
 * How a service records what an operator did: an `audit.v1.action.<id>` event through the
 * service's outbox, so it reaches the audit log even when NATS is briefly away (the outbox
 * sweeper publishes it later). Throws only when neither the publish nor the outbox took it.
 */
@Injectable()
export class AuditTrail {
  constructor(@Inject(Outbox) private readonly outbox: Outbox) {}

  async record(entries: readonly AuditEntry[]): Promise<void> {
    const events = entries.map(({ id, at, ...action }) => {
      if (!isEntityToken(id)) {
        throw new Error(`audit action id ${JSON.stringify(id)} must match [A-Za-z0-9_-]{1,200}`);
      }
      return decision(SUBJECTS.auditAction, id, {
        ...action,
        at: (at ?? new Date()).toISOString(),
      });
    });
    const announced = await this.outbox.announce(events);
    const failed = announced.find((a) => a.state === 'failed');
    if (failed?.state === 'failed') {
      throw new Error(`audit action could not be recorded: ${failed.error.message}`, {
        cause: failed.error,
      });
    }
  }
}

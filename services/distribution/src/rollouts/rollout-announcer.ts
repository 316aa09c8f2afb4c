import { Inject, Injectable } from '@nestjs/common';
import { rolloutChangeEntityId, SUBJECTS } from '@sup/contracts';
import { isRolloutFinished, unannounced, type RolloutRecord } from '@sup/domain';
import type { Versioned } from '@sup/jetstream';
import { Outbox } from '@sup/service-kit';
import {
  ACTIVE_KEY,
  ROLLOUT_INDEX_STORE,
  ROLLOUT_STORE,
  rolloutKey,
  type RolloutIndexStore,
  type RolloutStore,
} from './rollout-stores';

/**
 * Publishes a rollout's changes after the compare-and-set that made them: each revision once as
 * `rollouts.v1.changed.<id>-<revision>` (message id from the same pair, so a repeat is a
 * duplicate), then moves `announced` forward. Changes a crash left unannounced are picked up by
 * the next call for that rollout (every tick makes one). Who acted is in the audit log and the
 * rollout's history (`by`), not on the event, whose actor type the history does not keep. A finished rollout leaves the `active`
 * index, which frees its agents for another rollout.
 */
@Injectable()
export class RolloutAnnouncer {
  constructor(
    @Inject(ROLLOUT_STORE) private readonly store: RolloutStore,
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async announce(stored: Versioned<RolloutRecord> | undefined): Promise<void> {
    if (!stored) return;
    const r = stored.value;
    const pending = unannounced(r);
    if (pending.length > 0) {
      const events = pending.map((h) => ({
        type: SUBJECTS.rolloutChanged,
        entityId: rolloutChangeEntityId(r.id, h.revision),
        id: `rollout-${rolloutChangeEntityId(r.id, h.revision)}`,
        time: h.at,
        data: {
          rolloutId: r.id,
          revision: h.revision,
          change: h.change,
          state: h.state,
          wave: h.wave,
          updateId: r.updateId,
          ...(h.waitingForRelays ? { waitingForRelays: h.waitingForRelays } : {}),
          ...(h.reason ? { reason: h.reason } : {}),
          at: h.at,
        },
      }));
      const failed = (await this.outbox.announce(events)).find((a) => a.state === 'failed');
      if (failed?.state === 'failed') throw failed.error;
      const upTo = pending[pending.length - 1].revision;
      await this.store.update(rolloutKey(r.id), (cur) =>
        cur && cur.value.announced < upTo ? { ...cur.value, announced: upTo } : undefined,
      );
    }
    if (isRolloutFinished(r.state)) await this.release(r.id);
  }

  /** Drops a rollout from the `active` index (idempotent). */
  async release(id: string): Promise<void> {
    await this.index.update(ACTIVE_KEY, (cur) =>
      cur?.value.rollouts.some((a) => a.id === id)
        ? { rollouts: cur.value.rollouts.filter((a) => a.id !== id) }
        : undefined,
    );
  }
}

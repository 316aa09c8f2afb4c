import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  SUBJECTS,
  type Actor,
  type Alert,
  type AlertDetail,
  type ListAlertsQuery,
} from '@sup/contracts';
import {
  acknowledgeAlert,
  alertEventToken,
  alertIdOf,
  AlertTransitionError,
  markAnnouncedThrough,
  observeAlert,
  resolveAlert,
  unannouncedTransitions,
  type AlertChange,
  type AlertHistoryEntry,
  type AlertObservation,
  type AlertView,
  type Resolution,
} from '@sup/domain';
import type { EventBatch, OutgoingEvent, Versioned, VersionedStore } from '@sup/jetstream';
import { announceBatch, AuditTrail, decision, mapLimited, Outbox } from '@sup/service-kit';
import { alertDetailOf, alertOfDoc } from './alert-mapping';
import { AlertProjection } from './alert.repository';
import { rejectionAlert } from './rejection-alert';

export const ALERT_STORE = Symbol('ALERT_STORE');

/** KV round trips in flight at once while a batch is applied. */
const KV_CONCURRENCY = 32;

/**
 * The alert lifecycle over the `alerts` KV bucket: every change is a pure transition from
 * libs/domain applied by compare-and-set (a lost race re-applies it to the newer value), so any
 * number of replicas share the alerts safely. Each transition is announced once, under an event id
 * made of the alert id and the transition's number; the MongoDB copy serves the listing.
 */
@Injectable()
export class AlertsService {
  constructor(
    @Inject(ALERT_STORE) private readonly store: VersionedStore<AlertView>,
    private readonly projection: AlertProjection,
    @Inject(Outbox) private readonly outbox: Outbox,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {}

  /** Rule `update-rejected`: one sighting per rejection event (its id counts it once). */
  async raiseForRejections(batch: EventBatch<typeof SUBJECTS.rejected>): Promise<void> {
    const at = new Date().toISOString();
    const decided = await mapLimited(batch.items, KV_CONCURRENCY, async (item) => {
      try {
        const o = rejectionAlert(item.event.data, item.event.id, at);
        const applied = await this.observe(o);
        return { item, applied, events: eventsOf(applied.value, [announced(applied, o)]) };
      } catch (error) {
        batch.retry(item, error as Error);
        return { item, applied: undefined, events: [] };
      }
    });
    await this.projection.write(decided.flatMap((d) => (d.applied ? [d.applied] : [])));
    await announceBatch(batch, this.outbox, decided);
  }

  /**
   * Sightings of the rules of libs/domain/src/alerts/rules. Event rules pass the event id as the
   * observation id (a redelivery counts once). State rules pass `perEpisode`: their observation id
   * names a condition, not a sighting, and counts once per episode of the alert (from its raise or
   * reopening), so a condition held across evaluations stays one occurrence and the same condition
   * after a resolution reopens the alert. Only transitions are written and announced.
   */
  async observeAll(
    observations: readonly AlertObservation[],
    { perEpisode = false }: { perEpisode?: boolean } = {},
  ): Promise<void> {
    const applied = await mapLimited(observations, KV_CONCURRENCY, async (o) => {
      let change: AlertChange | undefined;
      const stored = await this.store.update(alertIdOf(o.rule, o.subject), (current) => {
        const made = perEpisode ? perEpisodeObservation(current?.value, o) : o;
        change = made && observeAlert(current?.value, made);
        return change?.transition ? change.view : undefined;
      });
      // An event redelivered after a crash re-announces the transition it made (found by cause).
      const entry =
        change?.transition ?? (perEpisode || !stored ? undefined : announced(stored, o));
      return stored && entry && { stored, entry };
    });
    await this.publish(applied.filter((a) => !!a));
  }

  /**
   * Resolves alerts whose condition ended (see `resolutionsFor` in libs/domain): the state rules
   * per evaluation, and a relay's verification failure once it relays the update.
   */
  async resolve(resolutions: readonly Resolution[], at = new Date()): Promise<void> {
    const applied = await mapLimited(resolutions, KV_CONCURRENCY, async (r) => {
      let change: AlertChange | undefined;
      const stored = await this.store.update(r.alertId, (current) => {
        if (!current) return undefined;
        change = resolveAlert(current.value, r.reason, at.toISOString());
        return change.transition ? change.view : undefined;
      });
      return stored && { stored, entry: change?.transition ?? lastOf(stored.value, 'resolved') };
    });
    await this.publish(applied.filter((a) => a !== undefined));
  }

  /** An operator acknowledges: 404 for an unknown alert, 409 for a resolved one. */
  async acknowledge(alertId: string, actor: Actor, at = new Date()): Promise<AlertDetail> {
    let change: AlertChange | undefined;
    let refused: AlertTransitionError | undefined;
    const stored = await this.store.update(alertId, (current) => {
      if (!current) return undefined;
      try {
        refused = undefined;
        change = acknowledgeAlert(current.value, actor.name, at.toISOString());
      } catch (error) {
        if (!(error instanceof AlertTransitionError)) throw error;
        refused = error;
        return undefined;
      }
      return change.transition ? change.view : undefined;
    });
    if (!stored) throw new NotFoundException(`no alert with id ${alertId}`);
    if (refused) throw new ConflictException(refused.message);
    // A repeated ack (or a retry after a lost announcement) re-announces the recorded one.
    const entry = change?.transition ?? lastOf(stored.value, 'acknowledged');
    await this.publish([{ stored, entry }]);
    // Audited when this caller made the transition, or retries it (their record may be lost);
    // someone else's repeat of a done ack changed nothing and is not their action.
    if (entry && entry.by === actor.name) {
      await this.audit.record([
        {
          id: `alert-acknowledged-${alertEventToken(alertId, entry.seq)}`,
          action: 'alert-acknowledged',
          actor,
          target: alertId,
          outcome: 'accepted',
          at: new Date(entry.at),
        },
      ]);
    }
    return alertDetailOf(stored.value);
  }

  async get(alertId: string): Promise<AlertDetail> {
    const found = await this.store.get(alertId);
    if (!found) throw new NotFoundException(`no alert with id ${alertId}`);
    return alertDetailOf(found.value);
  }

  async list(q: ListAlertsQuery): Promise<{ items: Alert[]; total: number }> {
    const { docs, total } = await this.projection.page(q);
    return { items: docs.map(alertOfDoc), total };
  }

  private observe(o: AlertObservation): Promise<Versioned<AlertView>> {
    // Never undefined: an absent alert is always raised, so the mutation always writes then.
    return this.store.update(alertIdOf(o.rule, o.subject), (current) => {
      const { view, transition } = observeAlert(current?.value, o);
      return transition ? view : undefined;
    }) as Promise<Versioned<AlertView>>;
  }

  /**
   * Transitions a crash left unannounced (the KV changed, the process died before its events
   * were sent): every replica's sweep announces them and marks them. Answers how many alerts.
   */
  async announcePending(): Promise<number> {
    const found = (await this.store.entries()).filter(
      (e) => unannouncedTransitions(e.value).length > 0,
    );
    await this.publish(found.map((stored) => ({ stored, entry: undefined })));
    return found.length;
  }

  /**
   * Writes the listing copy, announces the transitions each alert has not announced yet besides
   * `entry` (one announced before and asked again: a redelivery), then marks the alert announced
   * through its last transition. Marking needs every transition up to it announced, not only
   * this caller's: another replica's may still be on its way, and is sent again here (the stream
   * stores each transition's event once).
   */
  private async publish(
    done: readonly { stored: Versioned<AlertView>; entry: AlertHistoryEntry | undefined }[],
  ): Promise<void> {
    await this.projection.write(done.map((d) => d.stored));
    await this.announce(
      done.flatMap(({ stored, entry }) => {
        const entries = unannouncedTransitions(stored.value);
        if (entry && !entries.some((e) => e.seq === entry.seq)) entries.unshift(entry);
        return eventsOf(stored.value, entries);
      }),
    );
    await mapLimited(done, KV_CONCURRENCY, ({ stored }) =>
      this.store.update(stored.value.id, (current) =>
        current ? markAnnouncedThrough(current.value, stored.value.seq) : undefined,
      ),
    );
  }

  private async announce(events: OutgoingEvent[]): Promise<void> {
    const failed = (await this.outbox.announce(events)).find((a) => a.state === 'failed');
    if (failed?.state === 'failed') throw failed.error;
  }
}

/**
 * A state rule's observation as this alert counts it: its condition key scoped to the episode
 * (`<key>@<seq of the transition it made>`), or undefined when the current episode (since the
 * alert was raised or last reopened) already counted that key. A resolved alert starts a new one.
 */
function perEpisodeObservation(
  view: AlertView | undefined,
  o: AlertObservation,
): AlertObservation | undefined {
  const next = { ...o, observationId: `${o.observationId}@${(view?.seq ?? 0) + 1}` };
  if (!view || view.state === 'resolved') return next;
  // History is bounded: after very many transitions the start is gone and every kept sighting counts as this episode's.
  const start =
    view.history.findLast((h) => h.event === 'raised' || h.event === 'reopened')?.seq ?? 0;
  const prefix = `${o.observationId}@`;
  const counted = view.seen.some(
    (id) => id.startsWith(prefix) && Number(id.slice(prefix.length)) >= start,
  );
  return counted ? undefined : next;
}

/** The transition an observation made, found by its cause (also after a redelivery). */
const announced = (stored: Versioned<AlertView>, o: AlertObservation) =>
  stored.value.history.find((h) => h.cause === o.observationId);

const lastOf = (view: AlertView, event: AlertHistoryEntry['event']) =>
  view.history.findLast((h) => h.event === event);

/** The events of transitions worth telling: raised, reopened, acknowledged, resolved. */
function eventsOf(view: AlertView, entries: (AlertHistoryEntry | undefined)[]): OutgoingEvent[] {
  return entries.flatMap((entry): OutgoingEvent[] => {
    if (!entry) return [];
    const token = alertEventToken(view.id, entry.seq);
    switch (entry.event) {
      case 'raised':
      case 'reopened':
        return [
          decision(SUBJECTS.alertRaised, token, {
            alertId: view.id,
            rule: view.rule,
            severity: view.severity,
            summary: view.summary,
            ...(view.updateId ? { updateId: view.updateId } : {}),
            details: view.details,
            raisedAt: entry.at,
            subject: view.subject,
            occurrences: view.occurrences,
            transition: entry.event,
          }),
        ];
      case 'acknowledged':
        return [
          decision(SUBJECTS.alertAcknowledged, token, {
            alertId: view.id,
            rule: view.rule,
            by: entry.by ?? 'unknown',
            acknowledgedAt: entry.at,
          }),
        ];
      case 'resolved':
        return [
          decision(SUBJECTS.alertResolved, token, {
            alertId: view.id,
            rule: view.rule,
            reason: entry.reason ?? '',
            resolvedAt: entry.at,
          }),
        ];
      case 'occurred':
        return [];
    }
  });
}

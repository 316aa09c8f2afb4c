import {
  ConflictException,
  ForbiddenException,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  relayResultEntityId,
  SUBJECTS,
  type Actor,
  type CreateRelayGroup,
  type RelayGroup,
  type RelayResult,
  type RelayResultsAccepted,
  type RelaySummary,
  type RelayView,
} from '@sup/contracts';
import { EventPublisher, type OutgoingEvent } from '@sup/jetstream';
import { AuditTrail } from '@sup/service-kit';
import { PublishedUpdates } from './published-updates';
import { RelayDirectory } from './relay-directory';
import { RelaysRepository } from './relays.repository';
import type { RelayGroupDoc } from './relays.schema';

/** Relay groups, assignments, relays' results and the relay listings. */
@Injectable()
export class RelaysService {
  constructor(
    private readonly repository: RelaysRepository,
    private readonly directory: RelayDirectory,
    private readonly published: PublishedUpdates,
    private readonly publisher: EventPublisher,
    private readonly audit: AuditTrail,
  ) {}

  async groups(): Promise<{ items: RelayGroup[] }> {
    return { items: (await this.repository.allGroups()).map(groupOf) };
  }

  /** Insert-once by name: a second create of the same name is a 409, whoever made the first. */
  async createGroup(body: CreateRelayGroup, actor: Actor): Promise<RelayGroup> {
    const doc: RelayGroupDoc = {
      _id: body.name,
      ...(body.description ? { description: body.description } : {}),
      createdAt: new Date(),
      createdBy: actor.name,
    };
    const created = await this.repository.createGroups([doc]);
    if (!created.has(body.name)) {
      throw new ConflictException({
        message: `relay group ${body.name} exists`,
        code: 'group-exists',
      });
    }
    await this.audit.record([
      {
        id: `relay-group-created-${body.name}`,
        action: 'relay-group-created',
        actor,
        target: body.name,
        outcome: 'accepted',
      },
    ]);
    return groupOf(doc);
  }

  async assignGroup(relayId: string, group: string, actor: Actor): Promise<RelayView> {
    if (!(await this.repository.group(group))) {
      throw new NotFoundException({ message: `no relay group ${group}`, code: 'unknown-group' });
    }
    const at = new Date();
    await this.repository.assign({ _id: relayId, group, by: actor.name, at });
    await this.audit.record([
      {
        id: `relay-group-assigned-${relayId}-${at.getTime()}`,
        action: 'relay-group-assigned',
        actor,
        target: relayId,
        outcome: 'accepted',
        reason: `group ${group}`,
      },
    ]);
    return (await this.directory.view(relayId)) as RelayView;
  }

  /** A relay reads only itself; viewers read any. */
  async relay(relayId: string, actor: Actor): Promise<RelayView> {
    if (actor.role === 'relay') assertSelf(relayId, actor);
    const view = await this.directory.view(relayId);
    if (!view) {
      throw new NotFoundException({
        message: `relay ${relayId} has neither reported nor been assigned a group`,
        code: 'unknown-relay',
      });
    }
    return view;
  }

  async list(): Promise<{ items: RelayView[]; total: number }> {
    const items = await this.directory.views();
    return { items, total: items.length };
  }

  async summary(): Promise<RelaySummary> {
    const items = await this.directory.views();
    const inSync = items.filter((r) => r.inSync).length;
    return {
      relays: items.length,
      inSync,
      allInSync: inSync === items.length,
      pending: items.reduce((n, r) => n + r.pending, 0),
    };
  }

  assertSelf(relayId: string, actor: Actor): void {
    assertSelf(relayId, actor);
  }

  /**
   * A relay's results, published as events with its own id: `relayed` once per (update, relay)
   * (its subject takes one message ever; a repeat is a duplicate), `failed` once per attempt.
   * The whole batch is checked first (credential, relay known, every update published), so a
   * refused batch publishes nothing. Publishes are pipelined; any failed one fails the call (503)
   * and posting the batch again is safe.
   */
  async results(
    relayId: string,
    actor: Actor,
    results: RelayResult[],
  ): Promise<RelayResultsAccepted> {
    assertSelf(relayId, actor);
    const group = await this.directory.groupOf(relayId);
    if (!group) {
      throw new ConflictException({
        message: `relay ${relayId} is unknown: it must report itself (fleet.v1.reported) first`,
        code: 'unknown-relay',
      });
    }
    const ids = [...new Set(results.map((r) => r.updateId))];
    const found = await Promise.all(ids.map((id) => this.published.get(id)));
    const unknown = ids.filter((_, i) => !found[i]);
    if (unknown.length > 0) {
      throw new NotFoundException({
        message: `not published: ${unknown.join(', ')}`,
        code: 'unknown-update',
        details: unknown,
      });
    }
    const now = new Date().toISOString();
    const events = results.map((r): OutgoingEvent =>
      r.state === 'relayed'
        ? {
            type: SUBJECTS.relayed,
            entityId: relayResultEntityId(r.updateId, relayId),
            id: `relayed-${r.updateId}-${relayId}`,
            data: {
              updateId: r.updateId,
              relayId,
              relayGroup: group,
              sha256: r.sha256 as string,
              relayedAt: now,
            },
          }
        : {
            type: SUBJECTS.relayFailed,
            entityId: `${relayResultEntityId(r.updateId, relayId)}-${r.attempt ?? 1}`,
            id: `relay-failed-${r.updateId}-${relayId}-${r.attempt ?? 1}`,
            data: {
              updateId: r.updateId,
              relayId,
              relayGroup: group,
              code: r.code as NonNullable<RelayResult['code']>,
              reason: r.reason as string,
              attempt: r.attempt ?? 1,
              failedAt: now,
            },
          },
    );
    const outcomes = await this.publisher.publishAll(events);
    const failed = outcomes.filter((o) => !o.ok).length;
    if (failed > 0) {
      throw new ServiceUnavailableException(
        `${failed} of ${results.length} results could not be stored; post the batch again`,
      );
    }
    const duplicates = outcomes.filter((o) => o.ok && o.duplicate).length;
    return { accepted: results.length - duplicates, duplicates };
  }
}

function assertSelf(relayId: string, actor: Actor): void {
  if (actor.name !== relayId) {
    throw new ForbiddenException({
      message: `this credential is relay ${actor.name}'s, not relay ${relayId}'s`,
      code: 'relay-mismatch',
    });
  }
}

function groupOf(doc: RelayGroupDoc): RelayGroup {
  return {
    name: doc._id,
    ...(doc.description ? { description: doc.description } : {}),
    createdAt: new Date(doc.createdAt).toISOString(),
    createdBy: doc.createdBy,
  };
}

import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { SECURITY_COMPONENTS, type Actor, type SecurityApplyResult } from '@sup/contracts';
import { channelCurrent, decideApply, type SecurityPin } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';
import { AuditTrail, SERVICE_CONFIG } from '@sup/service-kit';
import type { DistributionConfig } from '../config';
import { PublishedUpdates, type PublishedUpdate } from './published-updates';

/** KV bucket `version_control`: key `security.<component>` holds the operator's pin. */
export const VERSION_CONTROL_STORE = Symbol('VERSION_CONTROL_STORE');
const pinKey = (component: string) => `security.${component}`;
const PINS_REUSE_MS = 1_000;

export interface CurrentSecurityUpdate {
  component: string;
  updateId: string;
  version: string;
  sha256: string;
  size: number;
}

/**
 * The security channel: per component, the update relays must hold and agents should run — the
 * newest published, non-withdrawn one, unless an operator pinned an earlier kept one
 * (`POST /v1/updates/{id}/apply`). A pin holds while newer updates arrive, until the newest is
 * applied again. Pins change by compare-and-set in KV, so two replicas or two operators never
 * lose a write; the last one to win the revision is the pin.
 */
@Injectable()
export class SecurityChannel {
  /** Pins reused for a second, as the published list is (agents ask per request). */
  private pinsRead?: { at: number; value: Promise<Map<string, SecurityPin>> };

  constructor(
    private readonly published: PublishedUpdates,
    @Inject(VERSION_CONTROL_STORE) private readonly pins: VersionedStore<SecurityPin>,
    @Inject(SERVICE_CONFIG) private readonly config: DistributionConfig,
    private readonly audit: AuditTrail,
  ) {}

  async current(): Promise<CurrentSecurityUpdate[]> {
    const [updates, pins] = await Promise.all([this.securityUpdates(), this.allPins()]);
    const byId = new Map(updates.map((u) => [u.updateId, u]));
    return channelCurrent(updates, pins).map(({ updateId }) => {
      const u = byId.get(updateId) as PublishedUpdate;
      return {
        component: u.component,
        updateId,
        version: u.version,
        sha256: u.sha256,
        size: u.size,
      };
    });
  }

  async apply(updateId: string, actor: Actor): Promise<SecurityApplyResult> {
    const decision = decideApply(
      await this.securityUpdates(),
      updateId,
      this.config.relays.securityKeepPerComponent,
    );
    if (!decision.ok) {
      await this.audit.record([
        {
          id: `security-apply-refused-${updateId}-${Date.now()}`,
          action: 'security-update-applied',
          actor,
          target: updateId,
          outcome: 'refused',
          reason: decision.reason,
        },
      ]);
      throw new ConflictException({ message: decision.reason, code: decision.code });
    }
    const at = new Date().toISOString();
    const pin: SecurityPin =
      decision.pin === 'set'
        ? { updateId, version: decision.update.version, by: actor.name, at }
        : { by: actor.name, at };
    const stored = await this.pins.update(pinKey(decision.component), () => pin);
    this.pinsRead = undefined;
    await this.audit.record([
      {
        id: `security-apply-${decision.component}-${stored?.revision ?? 0}`,
        action: 'security-update-applied',
        actor,
        target: updateId,
        outcome: 'accepted',
        reason:
          decision.pin === 'set'
            ? `${decision.component} held at ${decision.update.version}`
            : `${decision.component} follows the newest again (${decision.update.version})`,
      },
    ]);
    return {
      component: decision.component,
      updateId,
      version: decision.update.version,
      pinned: decision.pin === 'set',
    };
  }

  private async securityUpdates(): Promise<PublishedUpdate[]> {
    return (await this.published.all()).filter((u) => u.kind === 'security');
  }

  private allPins(): Promise<Map<string, SecurityPin>> {
    const now = Date.now();
    if (!this.pinsRead || now - this.pinsRead.at > PINS_REUSE_MS) {
      const value = this.readPins();
      this.pinsRead = { at: now, value };
      value.catch(() => (this.pinsRead = undefined));
    }
    return this.pinsRead.value;
  }

  private async readPins(): Promise<Map<string, SecurityPin>> {
    const found = await Promise.all(
      SECURITY_COMPONENTS.map(async (c) => [c, await this.pins.get(pinKey(c))] as const),
    );
    const pins = new Map<string, SecurityPin>();
    for (const [component, entry] of found) if (entry) pins.set(component, entry.value);
    return pins;
  }
}

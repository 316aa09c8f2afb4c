import { ConflictException, Inject, Injectable } from '@nestjs/common';
import type {
  Actor,
  PutVersionControlBody,
  ResolvedBuild,
  VersionControlEntry,
} from '@sup/contracts';
import { resolveVersionControl } from '@sup/domain';
import { AuditTrail } from '@sup/service-kit';
import { buildOf, resolvedOf } from './catalog-builds';
import {
  VERSION_CONTROL_STORE,
  versionControlKey,
  type StoredVersionControl,
  type VersionControlStore,
} from './rollout-stores';
import { RolloutsRepository } from './rollouts.repository';

/** Agent version control per platform: the setting in KV, resolved against the catalog on read. */
@Injectable()
export class VersionControlService {
  constructor(
    @Inject(VERSION_CONTROL_STORE) private readonly store: VersionControlStore,
    private readonly repository: RolloutsRepository,
    private readonly audit: AuditTrail,
  ) {}

  async list(): Promise<VersionControlEntry[]> {
    const settings = (await this.store.entries()).filter((e) =>
      /^software\.[^.]+\.agent$/.test(e.key),
    );
    const entries = await Promise.all(settings.map((s) => this.entryOf(s.value)));
    return entries.sort((a, b) => (a.platform < b.platform ? -1 : 1));
  }

  /** The build agents of `platform` upgrade to under its setting, if it has one that resolves. */
  async resolve(platform: string): Promise<ResolvedBuild | undefined> {
    const setting = await this.store.get(versionControlKey(platform));
    return setting ? (await this.entryOf(setting.value)).resolved : undefined;
  }

  async put(platform: string, body: PutVersionControlBody, actor: Actor) {
    if (body.updateId) {
      const entry = await this.repository.catalogEntry(body.updateId);
      const problem = !entry
        ? 'is not published'
        : entry.kind !== 'software' || entry.component !== 'agent'
          ? 'is not an agent build'
          : entry.platform !== platform
            ? `is for platform ${entry.platform ?? '(none)'}, not ${platform}`
            : undefined;
      if (problem) {
        throw new ConflictException({
          message: `pinned-not-available: update ${body.updateId} ${problem}`,
          code: 'pinned-not-available',
        });
      }
    }
    const at = new Date();
    const value: StoredVersionControl = {
      platform,
      policy: body.policy,
      ...(body.updateId ? { updateId: body.updateId } : {}),
      ...(body.lag ? { lag: body.lag } : {}),
      setBy: actor.name,
      setAt: at.toISOString(),
    };
    const stored = await this.store.update(versionControlKey(platform), () => value);
    await this.audit.record([
      {
        id: `version-control-set-${platform}-${stored!.revision}`,
        action: 'version-control-set',
        actor,
        target: platform,
        outcome: 'accepted',
        reason: JSON.stringify(body),
        at,
      },
    ]);
    return this.entryOf(value);
  }

  private async entryOf(s: StoredVersionControl): Promise<VersionControlEntry> {
    const builds = (await this.repository.publishedBuilds('agent', s.platform)).map(buildOf);
    const r = resolveVersionControl(s, builds);
    return {
      platform: s.platform,
      policy: s.policy,
      ...(s.updateId ? { updateId: s.updateId } : {}),
      ...(s.lag ? { lag: s.lag } : {}),
      ...(r.ok ? { resolved: resolvedOf(r.build) } : { unresolved: r.code }),
      setBy: s.setBy,
      setAt: s.setAt,
    };
  }
}

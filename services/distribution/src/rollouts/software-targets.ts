import { Inject, Injectable } from '@nestjs/common';
import { VersionControlService } from './version-control.service';
import { ACTIVE_KEY, ROLLOUT_INDEX_STORE, type RolloutIndexStore } from './rollout-stores';

/**
 * The software builds a group's relays must hold (the catalog's `required` flag): the target of
 * every unfinished rollout whose agents are in the group, and the build version control resolves
 * to on every platform (a group's agents may run any platform).
 */
@Injectable()
export class SoftwareTargets {
  constructor(
    @Inject(ROLLOUT_INDEX_STORE) private readonly index: RolloutIndexStore,
    private readonly versionControl: VersionControlService,
  ) {}

  async requiredForGroup(group: string): Promise<string[]> {
    const active = (await this.index.get(ACTIVE_KEY))?.value.rollouts ?? [];
    const fromRollouts = active.filter((r) => r.groups.includes(group)).map((r) => r.updateId);
    const fromVersionControl = (await this.versionControl.list()).flatMap((e) =>
      e.resolved ? [e.resolved.updateId] : [],
    );
    return [...new Set([...fromRollouts, ...fromVersionControl])].sort();
  }
}

import type { Logger } from 'pino';
import type {
  ControlPlaneCatalog,
  ControlPlaneClient,
  ControlPlaneEntry,
} from './control-plane.client';

/**
 * The relay's group and that group's catalog, as the control plane says. The group is the
 * operator's assignment when there is one (`GET /v1/relays/{id}`), else RELAY_GROUP; the catalog
 * is fetched at most once per `ttlMs` and the last one is kept for when the control plane is
 * unreachable (agents are still served what is held).
 */
export class GroupCatalog {
  private group: string;
  private last: { at: number; group: string; catalog: ControlPlaneCatalog } | undefined;
  private pending: Promise<ControlPlaneCatalog> | undefined;

  constructor(
    private readonly controlPlane: ControlPlaneClient,
    private readonly relayId: string,
    private readonly configuredGroup: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {
    this.group = configuredGroup;
  }

  current(): string {
    return this.group;
  }

  /** Asks the control plane for the effective group; keeps the current one if it cannot answer. */
  async refreshGroup(): Promise<string> {
    try {
      const assigned =
        (await this.controlPlane.effectiveGroup(this.relayId)) ?? this.configuredGroup;
      if (assigned !== this.group) {
        this.logger.info({ from: this.group, to: assigned }, 'relay group changed');
        this.group = assigned;
        this.last = undefined;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'cannot read this relay from the control plane');
    }
    return this.group;
  }

  /** The catalog of the current group (cached for ttlMs; `fresh` skips the cache). */
  async catalog(fresh = false): Promise<ControlPlaneCatalog> {
    const group = this.group;
    if (!fresh && this.last && this.last.group === group && Date.now() - this.last.at < this.ttlMs)
      return this.last.catalog;
    this.pending ??= this.controlPlane
      .catalog(group)
      .then((catalog) => {
        this.last = { at: Date.now(), group, catalog };
        return catalog;
      })
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** The last catalog fetched, if any (for answering while the control plane is down). */
  lastKnown(): ControlPlaneCatalog | undefined {
    return this.last?.catalog;
  }

  static required(catalog: ControlPlaneCatalog | undefined): Set<string> {
    return new Set((catalog?.entries ?? []).filter((e) => e.required).map((e) => e.sha256));
  }

  static find(
    catalog: ControlPlaneCatalog,
    match: (e: ControlPlaneEntry) => boolean,
  ): ControlPlaneEntry | undefined {
    return catalog.entries.find(match);
  }
}

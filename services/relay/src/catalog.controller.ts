import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { Roles } from '@sup/auth';
import type { ControlPlaneCatalog } from './control-plane.client';
import { RelayService } from './relay.service';

/**
 * `GET /v1/catalog`: the entries of this relay's group catalog, as the control plane signed and
 * described them, with URLs on this relay (`artifactUrl` `/v1/artifacts/{sha256}`, `signatureUrl`
 * `/v1/artifacts/{sha256}.p7s`) and `held` (false: fetched on the first request). When the control
 * plane cannot be reached it answers from what it holds.
 */
@Controller('v1/catalog')
@Roles('agent', 'viewer')
export class CatalogController {
  constructor(@Inject(RelayService) private readonly relay: RelayService) {}

  @Get()
  async catalog(): Promise<{
    relayId: string;
    group: string;
    offline: boolean;
    entries: unknown[];
  }> {
    let catalog: ControlPlaneCatalog | undefined;
    let offline = false;
    try {
      catalog = await this.relay.catalog.catalog();
    } catch {
      offline = true;
      catalog = this.relay.catalog.lastKnown();
    }
    const entries = catalog ? catalog.entries : this.relay.cache.entries().map((c) => c.entry);
    if (!catalog && entries.length === 0 && offline)
      throw new ServiceUnavailableException({ code: 'control-plane-unreachable' });
    return {
      relayId: this.relay.relayId,
      group: catalog?.group ?? this.relay.catalog.current(),
      offline,
      entries: entries
        .filter((e) => !offline || catalog || this.relay.cache.get(e.sha256))
        .map((e) => ({
          ...e,
          artifactUrl: `/v1/artifacts/${e.sha256}`,
          signatureUrl: `/v1/artifacts/${e.sha256}.p7s`,
          held: this.relay.cache.get(e.sha256) !== undefined,
        })),
    };
  }
}

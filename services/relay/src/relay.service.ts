import type { Logger } from 'pino';
import type { CachedEntry, ContentCache } from './content-cache';
import type { ControlPlaneClient, ControlPlaneEntry } from './control-plane.client';
import { GroupCatalog } from './group-catalog';
import { RelayRefusal, type RelayFailureCode, type Replicator } from './replicator';

export type Handled = 'relayed' | 'not-in-catalog' | 'refused';

/**
 * What the relay does with an update, whoever asked (its durable consumer, an agent, a corrupted
 * file found while serving): get it verified into the cache through the Replicator, then tell the
 * control plane the result with its relay token. Transient failures (network, control plane
 * down) are thrown for the caller to retry.
 */
export class RelayService {
  constructor(
    readonly relayId: string,
    readonly cache: ContentCache,
    readonly catalog: GroupCatalog,
    private readonly replicator: Replicator,
    private readonly controlPlane: ControlPlaneClient,
    private readonly logger: Logger,
  ) {}

  /** One published update: kept and reported relayed, refused and reported failed, or not ours. */
  async relay(updateId: string): Promise<Handled> {
    const catalog = await this.catalog.catalog(true);
    const entry = GroupCatalog.find(catalog, (e) => e.updateId === updateId);
    if (!entry) return 'not-in-catalog';
    return this.keep(entry, GroupCatalog.required(catalog));
  }

  /** Fetched on demand for an agent: undefined when refused (reported) or not in the catalog. */
  async fetchForAgent(sha256: string): Promise<CachedEntry | undefined> {
    const held = this.cache.get(sha256);
    if (held) return held;
    const catalog = await this.catalog.catalog();
    const entry = GroupCatalog.find(catalog, (e) => e.sha256 === sha256);
    if (!entry) return undefined;
    const outcome = await this.keep(entry, GroupCatalog.required(catalog));
    return outcome === 'relayed' ? this.cache.get(sha256) : undefined;
  }

  private async keep(entry: ControlPlaneEntry, required: ReadonlySet<string>): Promise<Handled> {
    try {
      const cached = await this.replicator.ensure(entry, required);
      await this.controlPlane.postResults(this.relayId, [
        { updateId: entry.updateId, state: 'relayed', sha256: cached.sha256 },
      ]);
      return 'relayed';
    } catch (error) {
      if (!(error instanceof RelayRefusal)) throw error;
      await this.reportFailure(entry.updateId, error.code, error.message);
      return 'refused';
    }
  }

  /**
   * What the durable consumer cannot catch: required entries of the group catalog not held (the
   * group was reassigned, or deliveries ran out while the control plane was away). One at a time,
   * so a sweep never competes with agents for the link; failures are logged and tried next time.
   */
  async reconcile(): Promise<number> {
    const catalog = await this.catalog.catalog(true);
    const required = GroupCatalog.required(catalog);
    let fetched = 0;
    for (const entry of catalog.entries) {
      if (!entry.required || this.cache.get(entry.sha256)) continue;
      try {
        if ((await this.keep(entry, required)) === 'relayed') fetched++;
      } catch (error) {
        this.logger.warn({ err: error, updateId: entry.updateId }, 'reconcile: not fetched');
      }
    }
    return fetched;
  }

  async reportFailure(updateId: string, code: RelayFailureCode, reason: string): Promise<void> {
    this.logger.warn(
      { updateId, correlationId: updateId, code, reason },
      `update not kept at relay ${this.relayId}: ${reason}`,
    );
    const attempt = await this.cache.nextFailureAttempt(updateId);
    await this.controlPlane.postResults(this.relayId, [
      { updateId, state: 'failed', code, reason: reason.slice(0, 2_000), attempt },
    ]);
  }

  /**
   * A cached file no longer matches its digest: dropped at once (never served again), reported
   * as a `digest-mismatch` failure, and fetched again in the background (a new `relayed`, a
   * duplicate for the control plane, follows once it verified).
   */
  async corrupted(cached: CachedEntry, computed: string): Promise<void> {
    await this.cache.remove(cached.sha256);
    this.logger.error(
      { updateId: cached.entry.updateId, sha256: cached.sha256, computed },
      'a cached file no longer matches its digest: dropped and fetched again',
    );
    void (async () => {
      try {
        await this.reportFailure(
          cached.entry.updateId,
          'digest-mismatch',
          `cached bytes hash to ${computed}, expected ${cached.sha256}`,
        );
        await this.relay(cached.entry.updateId);
      } catch (error) {
        this.logger.warn({ err: error, updateId: cached.entry.updateId }, 'refetch failed');
      }
    })();
  }
}

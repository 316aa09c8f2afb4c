import { Inject, Injectable } from '@nestjs/common';
import type { FleetReported } from '@sup/contracts';
import { CasWinnerStore, reportSkipRule } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import type { DistributionConfig } from '../config';

/** A computer's winning report as the KV bucket holds it (JSON: dates stay ISO strings). */
export interface FleetEntry {
  rank: string;
  reported: FleetReported;
  /** Whether the read model holds this report but for its seen time (see `writeLatest`). */
  written?: boolean;
  writtenSeenAt?: number;
}

export const FLEET_WINNERS_STORE = Symbol('FLEET_WINNERS_STORE');
export const FLEET_WINNERS_BUCKET = 'fleet_latest';

/**
 * Decides which report of a computer wins: the KV bucket `fleet_latest` holds each computer's
 * highest-ranked report, keyed by computer id, and a claim replaces it only by compare-and-set on
 * the key's revision (a JetStream KV request each, pipelined per batch; no MongoDB query). A
 * report that changes nothing but the seen time (within FLEET_SEEN_RESOLUTION_MS) is claimed as
 * already written, so it costs no database write.
 */
@Injectable()
export class FleetWinners extends CasWinnerStore<FleetEntry> {
  constructor(
    @Inject(FLEET_WINNERS_STORE) store: VersionedStore<FleetEntry>,
    @Inject(SERVICE_CONFIG) config: DistributionConfig,
  ) {
    const resolution = config.fleet.seenResolutionMs;
    super(store, resolution > 0 ? reportSkipRule<FleetEntry>(resolution) : undefined);
  }
}

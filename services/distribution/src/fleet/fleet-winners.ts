import { Inject, Injectable } from '@nestjs/common';
import type { FleetReported } from '@sup/contracts';
import {
  claimed,
  marked,
  reportSkipRule,
  type SkipRule,
  type Stored,
  type WinnerStore,
} from '@sup/domain';
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
export class FleetWinners implements WinnerStore<FleetEntry> {
  private readonly skip: SkipRule<FleetEntry> | undefined;

  constructor(
    @Inject(FLEET_WINNERS_STORE) private readonly store: VersionedStore<FleetEntry>,
    @Inject(SERVICE_CONFIG) config: DistributionConfig,
  ) {
    const resolution = config.fleet.seenResolutionMs;
    this.skip = resolution > 0 ? reportSkipRule<FleetEntry>(resolution) : undefined;
  }

  async claim(key: string, candidate: FleetEntry): Promise<Stored<FleetEntry>> {
    const stored = await this.store.update(key, (current) =>
      claimed(candidate, current, this.skip),
    );
    // `claimed` returns the candidate when the key is empty, so there is always a value.
    if (!stored) throw new Error(`${key}: no value after a claim`);
    return stored;
  }

  get(key: string): Promise<Stored<FleetEntry> | undefined> {
    return this.store.get(key);
  }

  async mark(key: string, written: Stored<FleetEntry>): Promise<void> {
    // Without skipping nothing reads the mark: spare the KV request.
    const skip = this.skip;
    if (!skip) return;
    await this.store.update(key, (current) =>
      marked(written, current, (value) => skip.seenAt(value)),
    );
  }
}

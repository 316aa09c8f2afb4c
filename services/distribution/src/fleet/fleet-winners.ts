import { Inject, Injectable } from '@nestjs/common';
import type { FleetReported } from '@sup/contracts';
import { claimed, type Stored, type WinnerStore } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';

/** A computer's winning report as the KV bucket holds it (JSON: dates stay ISO strings). */
export interface FleetEntry {
  rank: string;
  reported: FleetReported;
}

export const FLEET_WINNERS_STORE = Symbol('FLEET_WINNERS_STORE');
export const FLEET_WINNERS_BUCKET = 'fleet_latest';

/**
 * Decides which report of a computer wins: the KV bucket `fleet_latest` holds each computer's
 * highest-ranked report, keyed by computer id, and a claim replaces it only by compare-and-set on
 * the key's revision (a JetStream KV request each, pipelined per batch; no MongoDB query).
 */
@Injectable()
export class FleetWinners implements WinnerStore<FleetEntry> {
  constructor(@Inject(FLEET_WINNERS_STORE) private readonly store: VersionedStore<FleetEntry>) {}

  async claim(key: string, candidate: FleetEntry): Promise<Stored<FleetEntry>> {
    const stored = await this.store.update(key, (current) => claimed(candidate, current));
    // `claimed` returns the candidate when the key is empty, so there is always a value.
    if (!stored) throw new Error(`${key}: no value after a claim`);
    return stored;
  }

  get(key: string): Promise<Stored<FleetEntry> | undefined> {
    return this.store.get(key);
  }
}

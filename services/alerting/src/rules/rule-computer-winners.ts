import { Inject, Injectable } from '@nestjs/common';
import type { FleetReported } from '@sup/contracts';
import { CasWinnerStore } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';

/** A computer's winning report as alerting's KV bucket holds it (key `computer.<id>`). */
export interface RuleComputerEntry {
  rank: string;
  reported: FleetReported;
}

export const RULES_STATE_STORE = Symbol('RULES_STATE_STORE');
export const RULES_STATE_BUCKET = 'alert_rules_state';

/**
 * The latest report per computer, decided by compare-and-set in alerting's own bucket (it never
 * reads distribution's): a report is stored only if it outranks the stored one, so replicas and
 * redeliveries in any order end with the latest. The bucket is the rules' view of the fleet:
 * every replica watches it (RulesFeed); nothing is written through to MongoDB.
 */
@Injectable()
export class RuleComputerWinners extends CasWinnerStore<RuleComputerEntry> {
  constructor(@Inject(RULES_STATE_STORE) store: VersionedStore<RuleComputerEntry>) {
    super(store, undefined, 'computer.');
  }
}

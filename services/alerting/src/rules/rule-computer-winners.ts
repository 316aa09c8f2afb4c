import { Inject, Injectable } from '@nestjs/common';
import type { FleetReported } from '@sup/contracts';
import { CasWinnerStore, DEFAULT_SEEN_RESOLUTION_MS, reportSkipRule } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import type { AlertingConfig } from '../config';

/** A computer's winning report as alerting's KV bucket holds it (key `computer.<id>`). */
export interface RuleComputerEntry {
  rank: string;
  reported: FleetReported;
  written?: boolean;
  writtenSeenAt?: number;
}

export const RULES_STATE_STORE = Symbol('RULES_STATE_STORE');
export const RULES_STATE_BUCKET = 'alert_rules_state';

/**
 * The winner per computer for the rules' projection (`writeLatest` of libs/domain), in alerting's
 * own bucket so it never reads distribution's. A report that changes nothing but the seen time is
 * not written; the seen time the rules read then lags by less than a quarter of
 * RULES_RELAY_UNAVAILABLE_MS (at most a minute), so a relay reporting on time never looks silent.
 */
@Injectable()
export class RuleComputerWinners extends CasWinnerStore<RuleComputerEntry> {
  constructor(
    @Inject(RULES_STATE_STORE) store: VersionedStore<RuleComputerEntry>,
    @Inject(SERVICE_CONFIG) config: AlertingConfig,
  ) {
    const quarter = Math.floor(config.rules.settings.relayUnavailableMs / 4);
    super(store, reportSkipRule(Math.min(DEFAULT_SEEN_RESOLUTION_MS, quarter)), 'computer.');
  }
}

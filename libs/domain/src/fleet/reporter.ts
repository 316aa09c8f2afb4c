import type { FleetReport, Role } from '@sup/contracts';

/** Why a caller may not post a batch of fleet reports (answered 403 with this code). */
export interface ReporterRefusal {
  code: 'relay-mismatch' | 'agent-reports-only';
  message: string;
}

/**
 * Who may post which fleet reports. A relay speaks only for itself: every report of its batch has
 * role `relay` and the id its credential names (relay tokens are per relay, named after it). The
 * agent token is shared by agents, so it binds no id, but it may not pass itself off as a relay
 * (relays' reports decide groups, holdings and in-sync state). People (operator and above) may
 * post any report. Judged over the whole batch: one foreign report refuses it all.
 */
export function refuseReports(
  caller: { role?: Role; name: string },
  reports: readonly FleetReport[],
): ReporterRefusal | undefined {
  if (caller.role === 'relay') {
    const foreign = reports.find((r) => r.role !== 'relay' || r.id !== caller.name);
    if (!foreign) return undefined;
    return {
      code: 'relay-mismatch',
      message: `relay ${caller.name} may post only its own report (role relay, id ${caller.name}), not ${foreign.role} ${foreign.id}`,
    };
  }
  if (caller.role === 'agent') {
    const foreign = reports.find((r) => r.role !== 'agent');
    if (!foreign) return undefined;
    return {
      code: 'agent-reports-only',
      message: `an agent token may post only agent reports, not ${foreign.role} ${foreign.id}`,
    };
  }
  return undefined;
}

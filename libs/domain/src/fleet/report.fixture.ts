import type { FleetReport } from '@sup/contracts';

/** A valid agent report for specs, with the fields a case is about overridden. */
export const fleetReport = (over: Partial<FleetReport> = {}): FleetReport => ({
  id: 'pc-1',
  role: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  relayGroup: 'default',
  securityUpdates: { 'firewall-rules': '26-058' },
  seenAt: '2026-11-29T10:00:00.000Z',
  ...over,
});

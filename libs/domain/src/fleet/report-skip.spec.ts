import type { FleetReport } from '@sup/contracts';
import { claimed } from './latest-wins';
import { reportSkipRule, type ReportValue } from './report-skip';
import { fleetReport } from './report.fixture';

const entry = (report: FleetReport): ReportValue => ({ rank: report.seenAt, reported: { report } });
const rule = reportSkipRule<ReportValue>(60_000);
const base = fleetReport({ seenAt: '2026-11-29T10:00:00.000Z' });
const written = {
  value: { ...entry(base), written: true, writtenSeenAt: Date.parse(base.seenAt) },
  revision: 7,
};

describe('reportSkipRule', () => {
  it('skips a report that only was seen later, within the resolution', () => {
    const next = entry({ ...base, seenAt: '2026-11-29T10:00:59.999Z' });
    expect(claimed(next, written, rule)).toEqual({
      ...next,
      written: true,
      writtenSeenAt: Date.parse(base.seenAt),
    });
  });

  it('writes a report seen a resolution or more after the last write', () => {
    const next = entry({ ...base, seenAt: '2026-11-29T10:01:00.000Z' });
    expect(claimed(next, written, rule)).toEqual(next);
  });

  it('writes a report that changed anything else', () => {
    const seenAt = '2026-11-29T10:00:10.000Z';
    expect(claimed(entry({ ...base, seenAt, version: '9.9.9' }), written, rule)?.written).toBe(
      undefined,
    );
    const security = { ...base.securityUpdates, extra: '1' };
    expect(
      claimed(entry({ ...base, seenAt, securityUpdates: security }), written, rule)?.written,
    ).toBe(undefined);
  });

  it('ignores key order', () => {
    const reordered = Object.fromEntries(
      Object.entries({ ...base, seenAt: '2026-11-29T10:00:10.000Z' }).reverse(),
    ) as FleetReport;
    expect(claimed(entry(reordered), written, rule)?.written).toBe(true);
  });
});

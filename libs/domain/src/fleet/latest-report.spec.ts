import { latestPerComputer, reportRank, supersedes } from './latest-report';
import { fleetReport } from './report.fixture';

const report = fleetReport;

describe('fleet reports: the latest seenAt wins per computer', () => {
  it.each([
    ['a later seenAt supersedes', report({ seenAt: '2026-11-29T10:00:01Z' }), report(), true],
    ['an earlier seenAt does not', report({ seenAt: '2026-11-29T09:59:59Z' }), report(), false],
    ['the same report again is no change', report(), report(), false],
    [
      'an offset is compared as the instant it names',
      report({ seenAt: '2026-11-29T11:00:00.001+01:00' }),
      report(),
      true,
    ],
    [
      'the same instant written with an offset is the same report',
      report({ seenAt: '2026-11-29T11:00:00+01:00' }),
      report(),
      false,
    ],
    [
      'milliseconds count (no text comparison of unequal widths)',
      report({ seenAt: '2026-11-29T10:00:00.5Z' }),
      report({ seenAt: '2026-11-29T10:00:00.25Z' }),
      true,
    ],
  ])('%s', (_name, candidate, current, expected) => {
    expect(supersedes(reportRank(candidate), reportRank(current))).toBe(expected);
  });

  it('breaks a tie at one instant by content, the same way in either order', () => {
    const a = reportRank(report({ version: '20.0.1-1' }));
    const b = reportRank(report({ version: '20.0.1-2' }));
    expect(a).not.toEqual(b);
    expect(supersedes(a, b)).toBe(!supersedes(b, a));
  });

  it('ranks equal reports equally whatever the order of their security updates', () => {
    const one = report({ securityUpdates: { a: '1', b: '2' } });
    const two = report({ securityUpdates: { b: '2', a: '1' } });
    expect(reportRank(one)).toBe(reportRank(two));
  });

  it('nothing yet: any report supersedes', () => {
    expect(supersedes(reportRank(report()), undefined)).toBe(true);
  });

  it('keeps one report per computer from a batch: the latest, whatever the arrival order', () => {
    const items = [
      { report: report({ id: 'a', seenAt: '2026-11-29T10:00:00Z', version: '20.0.1.1' }) },
      { report: report({ id: 'b', seenAt: '2026-11-29T10:00:00Z' }) },
      { report: report({ id: 'a', seenAt: '2026-11-29T12:00:00Z', version: '20.0.1.3' }) },
      { report: report({ id: 'a', seenAt: '2026-11-29T11:00:00Z', version: '20.0.1.2' }) },
    ];
    const latest = latestPerComputer(items);
    expect(latest.map((l) => [l.item.report.id, l.item.report.version])).toEqual([
      ['a', '20.0.1.3'],
      ['b', '20.0.1-12345'],
    ]);
    expect(
      latestPerComputer([...items].reverse())
        .map((l) => l.rank)
        .sort(),
    ).toEqual(latest.map((l) => l.rank).sort());
  });
});

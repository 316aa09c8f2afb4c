import { newestPerComponent, summarizeSecurityUpdates } from './summary';
import { compareSecurityVersions, versionLine } from './versions';

describe('versionLine', () => {
  it.each([
    ['20.0.1-12345', '20.0'],
    ['20.0.1.12345', '20.0'],
    ['9.6.100', '9.6'],
    ['10.0.0', '10.0'],
    ['not-a-version', 'unknown'],
    ['26-058', 'unknown'],
  ])('%s is on line %s', (version, line) => {
    expect(versionLine(version)).toBe(line);
  });
});

describe('compareSecurityVersions', () => {
  it.each([
    ['26-058', '26-057', 1],
    ['26-058', '25-999', 1],
    ['26-058', '26-058', 0],
    ['26-100', '26-099', 1],
    ['19.231.00', '19.230.99', 1],
    ['19.231.00', '19.231', 1],
    ['19.10.00', '19.9.00', 1],
    ['garbage', '26-001', -1],
    ['26-001', 'garbage', 1],
  ])('%s vs %s is %i', (a, b, expected) => {
    expect(compareSecurityVersions(a, b)).toBe(expected);
  });
});

describe('summarizeSecurityUpdates', () => {
  const newest = newestPerComponent([
    { component: 'firewall-rules', version: '26-057' },
    { component: 'firewall-rules', version: '26-058' },
    { component: 'firewall-rules', version: '25-200' },
    { component: 'anti-malware-pattern', version: '19.231.00' },
  ]);

  it('finds the newest published version per component', () => {
    expect(Object.fromEntries(newest)).toEqual({
      'firewall-rules': '26-058',
      'anti-malware-pattern': '19.231.00',
    });
  });

  it.each([
    {
      name: 'up to date at the newest version, out of date below it',
      counts: [
        { component: 'firewall-rules', version: '26-058', count: 7 },
        { component: 'firewall-rules', version: '26-057', count: 2 },
        { component: 'firewall-rules', version: '25-200', count: 1 },
      ],
      component: 'firewall-rules',
      want: { latest: '26-058', upToDate: 7, outOfDate: 3 },
      versions: ['26-058', '26-057', '25-200'],
    },
    {
      name: 'a version newer than the catalog knows counts as up to date',
      counts: [{ component: 'firewall-rules', version: '26-059', count: 4 }],
      component: 'firewall-rules',
      want: { latest: '26-058', upToDate: 4, outOfDate: 0 },
      versions: ['26-059'],
    },
    {
      name: 'nothing published for a component: its versions, no verdict',
      counts: [{ component: 'log-inspection-rules', version: '26-001', count: 5 }],
      component: 'log-inspection-rules',
      want: { upToDate: 0, outOfDate: 0 },
      versions: ['26-001'],
    },
    {
      name: 'published but reported by no computer: listed empty',
      counts: [],
      component: 'anti-malware-pattern',
      want: { latest: '19.231.00', upToDate: 0, outOfDate: 0 },
      versions: [],
    },
  ])('$name', ({ counts, component, want, versions }) => {
    const row = summarizeSecurityUpdates(counts, newest).find((r) => r.component === component);
    expect(row).toEqual({ component, ...want, versions: expect.any(Array) });
    expect(row?.versions.map((v) => v.version)).toEqual(versions);
    expect(row?.latest).toBe((want as { latest?: string }).latest);
  });

  it('lists components in name order', () => {
    const rows = summarizeSecurityUpdates(
      [{ component: 'z-rules', version: '26-001', count: 1 }],
      newest,
    );
    expect(rows.map((r) => r.component)).toEqual([
      'anti-malware-pattern',
      'firewall-rules',
      'z-rules',
    ]);
  });
});

import fc from 'fast-check';
import {
  compareSoftwareVersions,
  DEFAULT_MANAGER_VERSION,
  managerSupports,
  compareVersions,
  INVALID_VERSION_CODES,
  isValidVersion,
  normalizeSoftwareVersion,
  normalizeVersion,
  parseSoftwareVersion,
  parseVersion,
  softwareLine,
  VERSION_KINDS,
  versionKindOf,
  versionOf,
  type VersionKind,
} from './versions';

describe('reference examples (shared/reference/domain-notes.md)', () => {
  it.each([
    ['agent build with a dash', 'software', '20.0.1-12345', '20.0.1.12345'],
    ['agent build with a dot', 'software', '20.0.1.12345', '20.0.1.12345'],
    ['an older line', 'software', '9.6.100', '9.6.100'],
    ['the newer build on that line', 'software', '9.6.200', '9.6.200'],
    ['a rule update: year 26, sequence 058', 'rule', '26-058', '26-058'],
    ['a pattern version', 'pattern', '19.231.00', '19.231.00'],
    ['a manager version with two parts', 'manager', '20.0', '20.0.0'],
    ['a manager build with a dash', 'manager', '20.0.0-1234', '20.0.0.1234'],
  ] as const)('%s: %s %j -> %j', (_name, kind, raw, canonical) => {
    expect(normalizeVersion(kind, raw)).toBe(canonical);
  });

  it('20.0.1-12345 and 20.0.1.12345 are one build', () => {
    expect(compareVersions('software', '20.0.1-12345', '20.0.1.12345')).toBe(0);
    expect(normalizeSoftwareVersion('20.0.1-12345')).toBe(normalizeSoftwareVersion('20.0.1.12345'));
  });

  it('9.6.200 is newer than 9.6.100, on the same line; 10.0.x is newer on another line', () => {
    expect(compareVersions('software', '9.6.100', '9.6.200')).toBe(-1);
    expect(softwareLine('9.6.100')).toBe(softwareLine('9.6.200'));
    expect(compareVersions('software', '9.6.200', '10.0.0')).toBe(-1);
    expect(softwareLine('10.0.0')).toBe('10.0');
    expect(softwareLine('9.6.100')).toBe('9.6');
    expect(softwareLine('20.0.1-12345')).toBe('20.0');
  });

  it('reads the build number as a build, not as a semver pre-release', () => {
    // Semver alone would say 20.0.1-12345 < 20.0.1.
    expect(compareVersions('software', '20.0.1-12345', '20.0.1')).toBe(1);
  });
});

describe('parse', () => {
  it('gives the numbers compared, in order', () => {
    expect(versionOf('software', '20.0.1-12345').parts).toEqual([20, 0, 1, 12345]);
    expect(versionOf('software', '9.6.100').parts).toEqual([9, 6, 100, 0]);
    expect(versionOf('rule', '26-058').parts).toEqual([26, 58]);
    expect(versionOf('pattern', '19.231.00').parts).toEqual([19, 231, 0]);
    expect(versionOf('manager', '20.0').parts).toEqual([20, 0, 0, 0]);
  });

  it('keeps the older software shorthands', () => {
    expect(parseSoftwareVersion('20.0.1-12345')).toEqual({
      core: '20.0.1',
      major: 20,
      minor: 0,
      build: 12345,
    });
    expect(parseSoftwareVersion('9.6.100')).toEqual({
      core: '9.6.100',
      major: 9,
      minor: 6,
      build: 0,
    });
  });

  it.each(['firewall-rules', 'intrusion-prevention-rules', 'log-inspection-rules'])(
    '%s takes rule versions',
    (component) => {
      expect(versionKindOf('security', component)).toBe('rule');
      expect(isValidVersion('security', component, '26-058')).toBe(true);
      expect(isValidVersion('security', component, '19.231.00')).toBe(false);
    },
  );

  it('maps kinds and components to version kinds', () => {
    expect(versionKindOf('software', 'agent')).toBe('software');
    expect(versionKindOf('security', 'anti-malware-pattern')).toBe('pattern');
    expect(versionKindOf('firmware', 'agent')).toBeUndefined();
  });

  const invalid: [VersionKind, string][] = [
    ...[
      '',
      '20',
      '20.0',
      '20.0.1-',
      '20.0.1.',
      '20.0.1-abc',
      'v20.0.1',
      '20.0.1.2.3',
      '20.0.1_5',
      '1234567.0.0',
      '20.0.1 build 5',
      ' 20.0.1',
      '-1.0.0',
      '20.0.1-12345-1',
    ].map((v): [VersionKind, string] => ['software', v]),
    ...['2026-058', '26-58', '26-0580', '26_058', '26058', '26-05a', ' 26-058', ''].map(
      (v): [VersionKind, string] => ['rule', v],
    ),
    ...['19', '19.231.00.1.2', '19.a', '19..231', '26-058', '19.231.', ''].map(
      (v): [VersionKind, string] => ['pattern', v],
    ),
    ...['20', '20.', '20.0.', '20.0-1', 'latest', ''].map((v): [VersionKind, string] => [
      'manager',
      v,
    ]),
  ];

  it.each(invalid)('refuses %s %j with its code and what was expected', (kind, raw) => {
    const parsed = parseVersion(kind, raw);
    expect(parsed).toEqual({
      ok: false,
      code: INVALID_VERSION_CODES[kind],
      reason: expect.stringContaining(`not a valid ${kind} version`) as unknown,
    });
    expect(() => normalizeVersion(kind, raw)).toThrow(/not a valid/);
  });

  it('refuses what is not text', () => {
    expect(parseVersion('software', 20)).toMatchObject({
      ok: false,
      code: 'invalid-software-version',
      reason: expect.stringContaining('number') as unknown,
    });
  });

  it.each(['', '20.0.1-abc', 'v20.0.1'])('software shorthands refuse %j', (raw) => {
    expect(parseSoftwareVersion(raw)).toBeNull();
    expect(normalizeSoftwareVersion(raw)).toBeNull();
    expect(() => compareSoftwareVersions(raw, '20.0.1')).toThrow(/not a software version/);
    expect(() => compareSoftwareVersions('20.0.1', raw)).toThrow(/not a software version/);
  });
});

describe('compare', () => {
  it.each([
    ['software', '20.0.1-12345', '20.0.1-12346'],
    ['software', '20.0.1-12346', '20.0.2'],
    ['software', '20.0.1.9', '20.0.1-10'],
    ['software', '9.6.200', '10.0.0'],
    ['software', '10.0.0', '20.0.1-1'],
    ['rule', '25-999', '26-001'],
    ['rule', '26-058', '26-059'],
    ['pattern', '19.231.00', '19.232.00'],
    ['pattern', '19.999.99', '20.001.00'],
    ['pattern', '19.231', '19.231.00'],
    ['manager', '20.0', '20.0.877'],
    ['manager', '20.0.877', '20.0.877-1'],
  ] as const)('%s: %s < %s', (kind, older, newer) => {
    expect(compareVersions(kind, older, newer)).toBe(-1);
    expect(compareVersions(kind, newer, older)).toBe(1);
  });

  it('sorts a mixed list of software spellings', () => {
    const sorted = ['20.0.2', '10.0.0', '20.0.1-12346', '9.6.200', '20.0.1.12345', '9.6.100'].sort(
      compareSoftwareVersions,
    );
    expect(sorted).toEqual([
      '9.6.100',
      '9.6.200',
      '10.0.0',
      '20.0.1.12345',
      '20.0.1-12346',
      '20.0.2',
    ]);
  });

  it('keeps zero-padded pattern spellings apart, in a fixed order', () => {
    expect(compareVersions('pattern', '19.231.0', '19.231.00')).not.toBe(0);
    expect(compareVersions('pattern', '19.231.0', '19.231.00')).toBe(
      -compareVersions('pattern', '19.231.00', '19.231.0'),
    );
  });

  it('refuses to compare versions of two kinds', () => {
    expect(() => compareVersions('software', '20.0.1', '26-058')).toThrow(
      /not a valid software version/,
    );
  });
});

/** Generators of valid versions of each kind, in every spelling the kind allows. */
const num = (max: number) => fc.integer({ min: 0, max });
const padded = (max: number) =>
  fc.tuple(num(max), fc.integer({ min: 0, max: 2 })).map(([n, pad]) => '0'.repeat(pad) + String(n));
const arbitraries: Record<VersionKind, fc.Arbitrary<string>> = {
  software: fc
    .tuple(padded(30), padded(9), padded(300), fc.option(num(99_999)), fc.constantFrom('.', '-'))
    .map(([a, b, c, build, sep]) => `${a}.${b}.${c}${build === null ? '' : `${sep}${build}`}`),
  manager: fc
    .tuple(num(30), num(9), fc.option(fc.tuple(num(999), fc.option(num(9999)))))
    .map(([a, b, rest]) =>
      rest === null ? `${a}.${b}` : `${a}.${b}.${rest[0]}${rest[1] === null ? '' : `-${rest[1]}`}`,
    ),
  rule: fc
    .tuple(num(99), num(999))
    .map(([y, s]) => `${String(y).padStart(2, '0')}-${String(s).padStart(3, '0')}`),
  pattern: fc.array(padded(999), { minLength: 2, maxLength: 4 }).map((p) => p.join('.')),
};

describe.each(VERSION_KINDS)('%s properties', (kind) => {
  const v = arbitraries[kind];

  it('normalising is idempotent, and the canonical form is a valid version', () => {
    fc.assert(
      fc.property(v, (raw) => {
        const once = normalizeVersion(kind, raw);
        expect(normalizeVersion(kind, once)).toBe(once);
        expect(compareVersions(kind, raw, once)).toBe(0);
      }),
    );
  });

  it('compare is antisymmetric and 0 exactly for one canonical form', () => {
    fc.assert(
      fc.property(v, v, (a, b) => {
        expect(compareVersions(kind, a, b)).toBe(-compareVersions(kind, b, a) || 0);
        expect(compareVersions(kind, a, b) === 0).toBe(
          normalizeVersion(kind, a) === normalizeVersion(kind, b),
        );
      }),
    );
  });

  it('compare is transitive', () => {
    fc.assert(
      fc.property(v, v, v, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort((p, q) => compareVersions(kind, p, q));
        expect(compareVersions(kind, x, y)).toBeLessThanOrEqual(0);
        expect(compareVersions(kind, y, z)).toBeLessThanOrEqual(0);
        expect(compareVersions(kind, x, z)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe('minimum manager version', () => {
  const selfHosted = { version: '20.0.877', mode: 'self-hosted' as const };
  const hosted = { version: '20.0.877', mode: 'hosted' as const };

  it.each([
    ['no minimum stated', undefined, selfHosted, { ok: true }],
    ['an older minimum', '20.0', selfHosted, { ok: true }],
    ['the same version, spelt shorter', '20.0.877.0', selfHosted, { ok: true }],
    [
      'a newer build of this manager',
      '20.0.877-1',
      selfHosted,
      { ok: false, code: 'manager-too-old' },
    ],
    ['a newer line', '21.0', selfHosted, { ok: false, code: 'manager-too-old' }],
    ['a newer line, hosted (always new enough)', '21.0', hosted, { ok: true }],
    ['an unreadable minimum', 'latest', selfHosted, { ok: false, code: 'invalid-manager-version' }],
    ['an unreadable minimum, hosted (ignored)', 'latest', hosted, { ok: true }],
  ] as const)('%s', (_name, min, manager, verdict) => {
    expect(managerSupports(min, manager)).toMatchObject(verdict);
  });

  it('says what is needed and what runs', () => {
    const verdict = managerSupports('21.0', selfHosted);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok)
      expect(verdict.reason).toMatch(/needs manager 21\.0 or newer; this manager is 20\.0\.877/);
  });

  it('the default manager version is one', () => {
    expect(parseVersion('manager', DEFAULT_MANAGER_VERSION).ok).toBe(true);
  });
});

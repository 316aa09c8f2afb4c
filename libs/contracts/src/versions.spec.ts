import {
  compareSoftwareVersions,
  isValidVersion,
  normalizeSoftwareVersion,
  parseSoftwareVersion,
} from './versions';

describe('software versions', () => {
  it('parses both build separators and the older three-part form', () => {
    expect(parseSoftwareVersion('20.0.1-12345')).toEqual({
      core: '20.0.1',
      major: 20,
      minor: 0,
      build: 12345,
    });
    expect(parseSoftwareVersion('20.0.1.12345')).toEqual({
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

  it('normalises 20.0.1-12345 and 20.0.1.12345 to the same canonical form', () => {
    expect(normalizeSoftwareVersion('20.0.1-12345')).toBe('20.0.1.12345');
    expect(normalizeSoftwareVersion('20.0.1.12345')).toBe('20.0.1.12345');
    expect(normalizeSoftwareVersion('9.6.100')).toBe('9.6.100');
    expect(compareSoftwareVersions('20.0.1-12345', '20.0.1.12345')).toBe(0);
  });

  it('reads the build number as a build, not as a semver pre-release', () => {
    // Semver alone would say 20.0.1-12345 < 20.0.1.
    expect(compareSoftwareVersions('20.0.1-12345', '20.0.1')).toBe(1);
  });

  it.each([
    ['20.0.1-12345', '20.0.1-12346'],
    ['20.0.1-12346', '20.0.2'],
    ['20.0.1-12345', '20.0.2'],
    ['20.0.1.9', '20.0.1-10'],
    ['9.6.100', '9.6.200'],
    ['9.6.200', '10.0.0'],
    ['9.6.100', '10.0.0'],
    ['10.0.0', '20.0.1-1'],
  ])('%s < %s', (older, newer) => {
    expect(compareSoftwareVersions(older, newer)).toBe(-1);
    expect(compareSoftwareVersions(newer, older)).toBe(1);
  });

  it('sorts a mixed list', () => {
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

  it.each([
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
    '-1.0.0',
  ])('refuses %j', (version) => {
    expect(parseSoftwareVersion(version)).toBeNull();
    expect(normalizeSoftwareVersion(version)).toBeNull();
    expect(isValidVersion('software', 'agent', version)).toBe(false);
    expect(() => compareSoftwareVersions(version, '20.0.1')).toThrow(/not a software version/);
    expect(() => compareSoftwareVersions('20.0.1', version)).toThrow(/not a software version/);
  });
});

describe('security versions', () => {
  it.each([
    'firewall-rules',
    'intrusion-prevention-rules',
    'integrity-monitoring-rules',
    'log-inspection-rules',
  ])('%s takes year-sequence rule versions such as 26-058', (component) => {
    expect(isValidVersion('security', component, '26-058')).toBe(true);
    expect(isValidVersion('security', component, '19.231.00')).toBe(false);
  });

  it.each(['2026-058', '26-58', '26-0580', '26_058', '26058', '26-05a', ' 26-058', ''])(
    'refuses rule %j',
    (version) => {
      expect(isValidVersion('security', 'firewall-rules', version)).toBe(false);
    },
  );

  it('takes dotted pattern versions such as 19.231.00 for the anti-malware pattern', () => {
    for (const version of ['19.231.00', '19.231', '1.2.3.4']) {
      expect(isValidVersion('security', 'anti-malware-pattern', version)).toBe(true);
    }
  });

  it.each(['19', '19.231.00.1.2', '19.a', '19..231', '26-058', '19.231.', ''])(
    'refuses pattern %j',
    (version) => {
      expect(isValidVersion('security', 'anti-malware-pattern', version)).toBe(false);
    },
  );
});

import { z } from 'zod';
import {
  FeedEntrySchema,
  LOCAL_ONLY_COMPONENTS,
  RelativePathSchema,
  SECURITY_COMPONENTS,
  SOFTWARE_COMPONENTS,
} from './update';

const SHA = 'a'.repeat(64);

const software = (): Record<string, unknown> => ({
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  releasedAt: '2026-03-01T10:00:00Z',
  minManagerVersion: '20.0.0',
  notesUrl: 'https://vendor.example/notes/20.0.1',
  artifact: { path: 'agent/linux-x86_64/agent-20.0.1-12345.tar.gz', size: 1024, sha256: SHA },
  signature: {
    path: 'agent/linux-x86_64/agent-20.0.1-12345.tar.gz.p7s',
    format: 'cms-detached-der',
  },
});

const security = (): Record<string, unknown> => ({
  kind: 'security',
  component: 'anti-malware-pattern',
  version: '19.231.00',
  artifact: { path: 'patterns/19.231.00.zip', size: 0, sha256: SHA },
  signature: { path: 'patterns/19.231.00.zip.p7s', format: 'cms-detached-der' },
});

const without = (value: Record<string, unknown>, ...keys: string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([key]) => !keys.includes(key)));

const issues = (value: unknown): z.ZodIssue[] => {
  const result = FeedEntrySchema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return result.error.issues;
};
const paths = (value: unknown): string[] => [
  ...new Set(issues(value).map((i) => i.path.join('.'))),
];

describe('FeedEntrySchema', () => {
  it('accepts a software entry', () => {
    expect(FeedEntrySchema.parse(software())).toEqual(software());
  });

  it('accepts a software entry without its optional fields', () => {
    const minimal = without(software(), 'releasedAt', 'minManagerVersion', 'notesUrl');
    expect(FeedEntrySchema.safeParse(minimal).success).toBe(true);
  });

  it('accepts a security entry (pattern and rules)', () => {
    expect(FeedEntrySchema.parse(security())).toEqual(security());
    expect(
      FeedEntrySchema.safeParse({ ...security(), component: 'firewall-rules', version: '26-058' })
        .success,
    ).toBe(true);
  });

  it.each([...SOFTWARE_COMPONENTS])('accepts the software component %s', (component) => {
    expect(FeedEntrySchema.safeParse({ ...software(), component }).success).toBe(true);
  });

  it.each([...SECURITY_COMPONENTS])('accepts the security component %s', (component) => {
    const version = component === 'anti-malware-pattern' ? '19.231.00' : '26-058';
    expect(FeedEntrySchema.safeParse({ ...security(), component, version }).success).toBe(true);
  });

  it('refuses an unknown kind', () => {
    expect(paths({ ...software(), kind: 'firmware' })).toEqual(['kind']);
    expect(paths(without(software(), 'kind'))).toEqual(['kind']);
  });

  it('refuses an unknown component', () => {
    expect(paths({ ...software(), component: 'kernel' })).toEqual(['component']);
    expect(paths({ ...security(), component: 'kernel' })).toEqual(['component']);
  });

  it('refuses a component of the other kind', () => {
    expect(paths({ ...software(), component: 'firewall-rules' })).toEqual(['component']);
    expect(paths({ ...security(), component: 'agent' })).toEqual(['component']);
  });

  it('refuses application-control rules: they are built locally, never shipped', () => {
    expect(LOCAL_ONLY_COMPONENTS).toContain('application-control-rules');
    expect(
      paths({ ...security(), component: 'application-control-rules', version: '26-058' }),
    ).toEqual(['component']);
    expect(paths({ ...software(), component: 'application-control-rules' })).toEqual(['component']);
  });

  it('requires a platform for software', () => {
    expect(paths(without(software(), 'platform'))).toEqual(['platform']);
  });

  it('forbids a platform for security updates', () => {
    const [issue] = issues({ ...security(), platform: 'linux-x86_64' });
    expect(issue.code).toBe('unrecognized_keys');
    expect(issue).toMatchObject({ keys: ['platform'] });
  });

  it('refuses unknown fields', () => {
    expect(issues({ ...software(), extra: 1 })[0].code).toBe('unrecognized_keys');
  });

  it.each(['Linux-x86_64', 'linux x86_64', '-linux', 'linux-', 'linux--x86', ''])(
    'refuses platform %j',
    (platform) => {
      expect(paths({ ...software(), platform })).toEqual(['platform']);
    },
  );

  it.each([
    ['software', 'agent', '20.0'],
    ['software', 'agent', 'latest'],
    ['security', 'anti-malware-pattern', '26-058'],
    ['security', 'firewall-rules', '19.231.00'],
  ])('refuses a %s %s with version %j', (kind, component, version) => {
    const base = kind === 'software' ? software() : security();
    const [issue] = issues({ ...base, component, version });
    expect(issue.path).toEqual(['version']);
  });

  it.each([
    ['version', { version: '20.0.1-x' }, 'invalid-software-version'],
    ['minManagerVersion', { minManagerVersion: 'latest' }, 'invalid-manager-version'],
  ])('names the code of an unreadable %s', (field, change, code) => {
    const [issue] = issues({ ...software(), ...change });
    expect(issue).toMatchObject({ path: [field], params: { code } });
  });

  it('reads a minManagerVersion of two parts (20.0)', () => {
    expect(FeedEntrySchema.safeParse({ ...software(), minManagerVersion: '20.0' }).success).toBe(
      true,
    );
  });

  it('explains the version format it expects', () => {
    expect(issues({ ...software(), version: 'x' })[0].message).toMatch(/20\.0\.1-12345/);
    expect(issues({ ...security(), version: 'x' })[0].message).toMatch(/19\.231\.00/);
    expect(issues({ ...security(), component: 'firewall-rules', version: 'x' })[0].message).toMatch(
      /26-058/,
    );
  });

  it.each([
    '../x',
    'a/../../x',
    '..',
    '/x',
    '//host/x',
    'a/./b',
    './a',
    'a//b',
    'a/',
    'http://x',
    'https://vendor.example/agent.tar.gz',
    'file:/etc/passwd',
    'C:/x',
    'a\\b',
    '..\\x',
    '',
    // Forms a URL parser turns into one of the above.
    '%2e%2e/x',
    'a/%2E%2e/%2e./x',
    '.%2e/x',
    '%2e/x',
    ' /x',
    ' http:evil.example/x',
    '.\t./x',
    'a\n/b',
    'x ',
  ])('refuses the artifact and signature path %j', (path) => {
    const entry = software();
    expect(paths({ ...entry, artifact: { ...(entry.artifact as object), path } })).toEqual([
      'artifact.path',
    ]);
    expect(paths({ ...entry, signature: { ...(entry.signature as object), path } })).toEqual([
      'signature.path',
    ]);
  });

  it.each([
    'agent.tar.gz',
    'a/b/c.p7s',
    'a..b/c',
    '...',
    'dir/.hidden',
    '%2e%2ex/y',
    'a b/c',
    'v1-2/x',
  ])('accepts the relative path %j', (path) => {
    expect(RelativePathSchema.safeParse(path).success).toBe(true);
  });

  it('refuses a path longer than 1024 characters', () => {
    expect(RelativePathSchema.safeParse('a'.repeat(1025)).success).toBe(false);
  });

  it.each([
    ['upper case', 'A'.repeat(64)],
    ['63 characters', 'a'.repeat(63)],
    ['65 characters', 'a'.repeat(65)],
    ['non-hex', 'g'.repeat(64)],
    ['a prefix', `sha256:${'a'.repeat(64)}`],
  ])('refuses a sha256 with %s', (_label, sha256) => {
    const entry = software();
    expect(paths({ ...entry, artifact: { ...(entry.artifact as object), sha256 } })).toEqual([
      'artifact.sha256',
    ]);
  });

  it.each([-1, 1.5, '1024'])('refuses the artifact size %j', (size) => {
    const entry = software();
    expect(paths({ ...entry, artifact: { ...(entry.artifact as object), size } })).toEqual([
      'artifact.size',
    ]);
  });

  it('refuses a signature format other than detached DER CMS', () => {
    const entry = software();
    expect(
      paths({ ...entry, signature: { ...(entry.signature as object), format: 'pgp' } }),
    ).toEqual(['signature.format']);
  });

  it('refuses a release date without a time zone and a notes URL that is not a URL', () => {
    expect(paths({ ...software(), releasedAt: '2026-03-01T10:00:00' })).toEqual(['releasedAt']);
    expect(paths({ ...software(), notesUrl: 'notes' })).toEqual(['notesUrl']);
  });
});

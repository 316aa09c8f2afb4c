import { FeedEntrySchema } from '@sup/contracts';
import { classifyInvalidEntry, entryRejection } from './entry-rejection';

const valid = {
  kind: 'security',
  component: 'firewall-rules',
  version: '26-058',
  artifact: { path: 'fw/26-058.bin', size: 10, sha256: 'a'.repeat(64) },
  signature: { path: 'fw/26-058.bin.p7s', format: 'cms-detached-der' },
};

const classify = (raw: Record<string, unknown>) => {
  const parsed = FeedEntrySchema.safeParse(raw);
  if (parsed.success) throw new Error('expected an invalid entry');
  return classifyInvalidEntry(raw, parsed.error);
};

describe('feed entry rejections', () => {
  it('refuses application-control rules as made locally, never imported', () => {
    expect(classify({ ...valid, component: 'application-control-rules' })).toMatchObject({
      code: 'local-only-component',
    });
  });

  it('names a path that escapes the feed', () => {
    const r = classify({ ...valid, artifact: { ...valid.artifact, path: '../../etc/passwd' } });
    expect(r.code).toBe('path-escape');
    expect(r.reason).toContain('artifact.path');
  });

  it('lists what is wrong with an unknown kind', () => {
    const r = classify({ ...valid, kind: 'firmware' });
    expect(r.code).toBe('invalid-entry');
    expect(r.reason).toContain('kind');
  });

  it.each([
    ['a rule version', { version: '2026-058' }, 'invalid-rule-version'],
    [
      'a pattern version',
      { component: 'anti-malware-pattern', version: '26-058' },
      'invalid-pattern-version',
    ],
    [
      'a software build',
      { kind: 'software', component: 'agent', platform: 'linux-x86_64', version: '20.0.1-beta' },
      'invalid-software-version',
    ],
    [
      'a minimum manager version',
      {
        kind: 'software',
        component: 'agent',
        platform: 'linux-x86_64',
        version: '20.0.1-12345',
        minManagerVersion: 'any',
      },
      'invalid-manager-version',
    ],
  ])('refuses %s it cannot read with its code, never coerced', (_name, change, code) => {
    const r = classify({ ...valid, ...change });
    expect(r.code).toBe(code);
    expect(r.reason).toMatch(/is not a valid/);
  });

  it('keeps invalid-entry when the entry is wrong beyond its version', () => {
    expect(classify({ ...valid, platform: 'x', version: 'nope' }).code).toBe('invalid-entry');
  });

  it('identifies a rejected entry by its raw labels, deterministically', () => {
    const source = {
      type: 'feed' as const,
      feed: 'acme',
      sequence: 1,
      url: 'file:///f/',
      syncId: 'sync_1',
    };
    const raw = { ...valid, kind: 'firmware', version: { weird: true } };
    const a = entryRejection(raw, 'invalid-entry', 'bad', source);
    const b = entryRejection(raw, 'invalid-entry', 'bad', source);
    expect(a.updateId).toBe(b.updateId);
    expect(a.updateId).toMatch(/^upd_[0-9a-f]{24}$/);
    expect(a).toMatchObject({
      stage: 'feed',
      file: 'fw/26-058.bin',
      entry: { kind: 'firmware', component: 'firewall-rules' },
    });
    expect(a.entry).not.toHaveProperty('version');
  });
});

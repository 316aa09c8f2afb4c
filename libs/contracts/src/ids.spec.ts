import { SyncRequestedSchema } from './events';
import { newImportId, newSyncId, updateIdFor, type UpdateIdentity } from './ids';
import { UpdateIdSchema } from './update';
import { entitySubject, parseEntitySubject, SUBJECTS, typeFilter } from './subjects';

const identity: Required<UpdateIdentity> = {
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  sha256: 'a'.repeat(64),
};

describe('updateIdFor', () => {
  it('is an update id', () => {
    const id = updateIdFor(identity);
    expect(id).toMatch(/^upd_[0-9a-f]{24}$/);
    expect(UpdateIdSchema.safeParse(id).success).toBe(true);
  });

  it('is stable: same update, same id', () => {
    expect(updateIdFor(identity)).toBe(updateIdFor({ ...identity }));
    const reordered: UpdateIdentity = {
      sha256: identity.sha256,
      version: identity.version,
      platform: identity.platform,
      component: identity.component,
      kind: identity.kind,
    };
    expect(updateIdFor(reordered)).toBe(updateIdFor(identity));
  });

  it('does not change across releases (stored records and deduplication depend on it)', () => {
    // The canonical (dot) spelling kept its id when ids began to normalise; a dash spelling now
    // shares it (docs/architecture.md, "Versions").
    expect(updateIdFor({ ...identity, version: '20.0.1.12345' })).toBe(
      'upd_d6e5a0e8c499bba35f2670ba',
    );
    expect(
      updateIdFor({
        kind: 'security',
        component: 'anti-malware-pattern',
        version: '19.231.00',
        sha256: 'b'.repeat(64),
      }),
    ).toBe('upd_7ffc456d9a722dd2fdfba0b6');
  });

  it('ignores what is not part of the identity', () => {
    const withMore = { ...identity, artifact: { path: 'x' }, releasedAt: '2026-01-01T00:00:00Z' };
    expect(updateIdFor(withMore)).toBe(updateIdFor(identity));
  });

  it.each([
    ['kind', 'security'],
    ['component', 'relay'],
    ['platform', 'windows-x86_64'],
    ['version', '20.0.1-12346'],
    ['sha256', 'b'.repeat(64)],
  ] as const)('changes with the %s', (field, value) => {
    expect(updateIdFor({ ...identity, [field]: value })).not.toBe(updateIdFor(identity));
  });

  it('tells a missing platform from a present one', () => {
    expect(updateIdFor({ ...identity, platform: undefined })).not.toBe(updateIdFor(identity));
  });

  it('keeps the fields apart: moving text from one field to the next is another update', () => {
    const a = updateIdFor({ ...identity, component: 'agent', platform: 'linux' });
    const b = updateIdFor({ ...identity, component: 'agentl', platform: 'inux' });
    const c = updateIdFor({ ...identity, component: 'agent\u0000linux', platform: '' });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('gives one build spelt with a dash and with a dot one id (the reference product: same build)', () => {
    expect(updateIdFor({ ...identity, version: '20.0.1.12345' })).toBe(updateIdFor(identity));
    expect(updateIdFor({ ...identity, version: '20.0.1.12346' })).not.toBe(updateIdFor(identity));
  });

  it.each([
    ['a software build without its zero build', 'software', 'agent', '20.0.1', '20.0.1.0'],
    ['a software line with leading zeros', 'software', 'relay', '9.6.100', '09.06.100'],
  ])('normalises %s', (_name, kind, component, a, b) => {
    const base = { kind, component, platform: 'linux-x86_64', sha256: identity.sha256 };
    expect(updateIdFor({ ...base, version: a })).toBe(updateIdFor({ ...base, version: b }));
  });

  it.each([
    ['rule versions are compared as written', 'security', 'firewall-rules', '26-058', '26-058 '],
    ['a version that cannot be read stays raw', 'software', 'agent', '20.0.1-x', '20.0.1.x'],
    [
      'patterns keep their zero padding',
      'security',
      'anti-malware-pattern',
      '19.231.00',
      '19.231.0',
    ],
    ['an unknown kind is not normalised', 'firmware', 'agent', '20.0.1-1', '20.0.1.1'],
  ])('keeps apart: %s', (_name, kind, component, a, b) => {
    const base = { kind, component, sha256: identity.sha256 };
    expect(updateIdFor({ ...base, version: a })).not.toBe(updateIdFor({ ...base, version: b }));
  });
});

describe('random ids', () => {
  it('makes sync ids that the sync-requested contract accepts', () => {
    const id = newSyncId();
    expect(id).toMatch(/^sync_[0-9a-f]{24}$/);
    expect(SyncRequestedSchema.shape.syncId.safeParse(id).success).toBe(true);
    expect(newSyncId()).not.toBe(id);
  });

  it('makes import ids', () => {
    const id = newImportId();
    expect(id).toMatch(/^imp_[0-9a-f]{24}$/);
    expect(newImportId()).not.toBe(id);
  });
});

describe('entity subjects', () => {
  it('puts the entity id after the type and parses it back', () => {
    const wire = entitySubject(SUBJECTS.published, 'upd_0123456789abcdef01234567');
    expect(wire).toBe('updates.v1.published.upd_0123456789abcdef01234567');
    expect(parseEntitySubject(wire)).toEqual({
      type: SUBJECTS.published,
      entityId: 'upd_0123456789abcdef01234567',
    });
    expect(typeFilter(SUBJECTS.published)).toBe('updates.v1.published.*');
  });

  it.each(['', 'a.b', 'a b', '*', '>', 'x'.repeat(201)])('refuses %j as a subject token', (id) => {
    expect(() => entitySubject(SUBJECTS.imported, id)).toThrow(/cannot be a subject token/);
  });

  it('does not parse subjects that are not <type>.<entity>', () => {
    expect(parseEntitySubject('updates.v1.imported')).toBeUndefined();
    expect(parseEntitySubject('updates.v1.unknown.upd_1')).toBeUndefined();
    expect(parseEntitySubject('dlq.v1.checksum.updates.v1.imported')).toBeUndefined();
  });
});

import { resolveVersionControl, type PublishedBuild } from './version-control';

const b = (version: string, id = version): PublishedBuild => ({
  updateId: `upd_${id}`,
  version,
  sha256: 'a'.repeat(64),
  size: 1,
});
const builds = [b('20.0.1-100'), b('20.1.0-200'), b('20.1.0.300'), b('19.6.5-50'), b('20.0.1-120')];

describe('resolveVersionControl', () => {
  it.each([
    ['latest', {}, '20.1.0.300'],
    ['lag', { lag: 1 }, '20.0.1-120'],
    ['lag', { lag: 2 }, '19.6.5-50'],
    ['pinned', { updateId: 'upd_20.0.1-100' }, '20.0.1-100'],
  ] as const)('%s %j -> %s', (policy, extra, version) => {
    const r = resolveVersionControl({ policy, ...extra }, builds);
    expect(r).toEqual({ ok: true, build: expect.objectContaining({ version }) });
  });

  it.each([
    [{ policy: 'latest' as const }, [], 'no-published-build'],
    [{ policy: 'lag' as const, lag: 1 }, [], 'no-published-build'],
    [{ policy: 'lag' as const, lag: 2 }, [b('20.0.1-1'), b('20.1.0-1')], 'not-enough-lines'],
    [{ policy: 'pinned' as const, updateId: 'upd_nope' }, builds, 'pinned-not-published'],
  ])('%j over %j -> %s', (setting, published, code) => {
    expect(resolveVersionControl(setting, published)).toEqual({ ok: false, code });
  });

  it('compares builds canonically: a dash and a dot spelling of one build rank equal', () => {
    const r = resolveVersionControl({ policy: 'latest' }, [
      b('20.0.1.9', 'x'),
      b('20.0.1-10', 'y'),
    ]);
    expect(r).toEqual({ ok: true, build: expect.objectContaining({ updateId: 'upd_y' }) });
  });

  it('skips builds whose version is not a software version', () => {
    const r = resolveVersionControl({ policy: 'latest' }, [b('nonsense'), b('9.6.100')]);
    expect(r).toEqual({ ok: true, build: expect.objectContaining({ version: '9.6.100' }) });
  });
});

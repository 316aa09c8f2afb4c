import { checksumVerdict } from './checksum-verdict';

const sha = (c: string) => c.repeat(64);

describe('checksumVerdict', () => {
  it('accepts matching size and digest, whatever the case of the published hex', () => {
    expect(checksumVerdict({ size: 3, sha256: sha('A') }, { size: 3, sha256: sha('a') })).toEqual({
      ok: true,
    });
  });
  it('reports a size mismatch before comparing digests', () => {
    const v = checksumVerdict({ size: 3, sha256: sha('a') }, { size: 4, sha256: sha('b') });
    expect(v).toMatchObject({ ok: false, code: 'size-mismatch' });
  });
  it('reports a digest mismatch naming both digests', () => {
    const v = checksumVerdict({ size: 3, sha256: sha('a') }, { size: 3, sha256: sha('b') });
    expect(v).toMatchObject({ ok: false, code: 'sha256-mismatch' });
    expect(!v.ok && v.reason).toContain(sha('b'));
  });
});

import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { signProvenance, verifyProvenance, type ProvenanceRecord } from './provenance';

const record: ProvenanceRecord = {
  updateId: 'upd_0123456789abcdef01234567',
  sha256: 'a'.repeat(64),
  size: 42,
  signer: { subject: 'CN=Vendor Signer', sha256Fingerprint: 'b'.repeat(64) },
  checks: [
    { name: 'checksum-verified', passedAt: '2026-11-29T10:00:00.000Z' },
    { name: 'signature-validated', passedAt: '2026-11-29T10:00:01.000Z' },
    { name: 'published', passedAt: '2026-11-29T10:00:02.000Z' },
  ],
  issuedAt: '2026-11-29T10:00:03.000Z',
};

describe('provenance records', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signed = signProvenance(record, privateKey);

  it('verify with node:crypto alone over the canonical JSON (sorted keys, no spaces)', () => {
    const canonical =
      '{"checks":[{"name":"checksum-verified","passedAt":"2026-11-29T10:00:00.000Z"},' +
      '{"name":"signature-validated","passedAt":"2026-11-29T10:00:01.000Z"},' +
      '{"name":"published","passedAt":"2026-11-29T10:00:02.000Z"}],' +
      '"issuedAt":"2026-11-29T10:00:03.000Z","sha256":"' +
      'a'.repeat(64) +
      '",' +
      '"signer":{"sha256Fingerprint":"' +
      'b'.repeat(64) +
      '","subject":"CN=Vendor Signer"},' +
      '"size":42,"updateId":"upd_0123456789abcdef01234567"}';
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    expect(
      verify(
        null,
        Buffer.from(canonical),
        createPublicKey(pem),
        Buffer.from(signed.signature, 'base64'),
      ),
    ).toBe(true);
    expect(verifyProvenance(signed, pem.toString())).toBe(true);
  });

  it('fails for a changed record, another key or a refused key type', () => {
    expect(verifyProvenance({ ...signed, record: { ...record, size: 43 } }, publicKey)).toBe(false);
    const other = generateKeyPairSync('ed25519');
    expect(verifyProvenance(signed, other.publicKey)).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => signProvenance(record, rsa.privateKey)).toThrow(/Ed25519/);
  });
});

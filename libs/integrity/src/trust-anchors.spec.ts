import { createTestPki, type TestPki } from '@sup/testing';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificates } from './certificates';
import { CertificateParseError } from './errors';
import { loadTrustAnchors, parseTrustAnchors, TrustAnchorError } from './trust-anchors';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-anchors-'));
  pki = await createTestPki(join(dir, 'pki'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const pem = (path: string) => readFileSync(path, 'utf8');
const der = (path: string) => Buffer.from(new X509Certificate(readFileSync(path)).raw);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('loadTrustAnchors', () => {
  it('loads the trusted root from a PEM bundle and names its source', () => {
    const anchors = loadTrustAnchors(pki.trustAnchorsPem);
    expect(anchors.source).toBe(pki.trustAnchorsPem);
    expect(anchors.certificates.map((c) => c.subject)).toEqual([
      'O=SUP Test PKI\nCN=SUP Test Root CA',
    ]);
  });

  it('keeps every certificate of a bundle, once each', async () => {
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, pem(pki.rootPem) + pem(pki.intermediatePem) + pem(pki.rootPem));
    expect(loadTrustAnchors(bundle).certificates).toHaveLength(2);
  });

  it('skips non-certificate PEM blocks', async () => {
    const mixed = join(dir, 'mixed.pem');
    await writeFile(mixed, pem(pki.signers.rsa.keyPem) + pem(pki.rootPem));
    expect(loadTrustAnchors(mixed).certificates).toHaveLength(1);
  });

  it.each([
    ['missing', 'absent.pem', null, 'trust-anchors-missing'],
    ['empty', 'empty.pem', '', 'trust-anchors-empty'],
    ['without certificates', 'key-only.pem', 'KEY', 'trust-anchors-empty'],
    [
      'corrupt',
      'corrupt.pem',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      'trust-anchors-invalid',
    ],
  ])(
    'fails with a clear error naming the file when it is %s',
    async (_label, name, content, code) => {
      const path = join(dir, name);
      if (content !== null)
        await writeFile(path, content === 'KEY' ? pem(pki.signers.rsa.keyPem) : content);
      const error = thrown(() => loadTrustAnchors(path));
      expect(error).toBeInstanceOf(TrustAnchorError);
      expect(error).toMatchObject({ code, source: path });
      expect((error as Error).message).toContain(path);
    },
  );
});

describe('parseTrustAnchors', () => {
  it('accepts a string and labels the source', () => {
    const anchors = parseTrustAnchors(pem(pki.rootPem), 'env:TRUST');
    expect(anchors).toMatchObject({ source: 'env:TRUST' });
    expect(anchors.certificates).toHaveLength(1);
  });

  it('also accepts a single DER certificate', () => {
    const anchors = parseTrustAnchors(der(pki.rootPem), 'root.der');
    expect(anchors.certificates.map((c) => c.fingerprint256)).toEqual([
      new X509Certificate(readFileSync(pki.rootPem)).fingerprint256,
    ]);
  });

  it('reports text without any certificate as empty', () => {
    expect(thrown(() => parseTrustAnchors('just some text\n', 'notes.txt'))).toMatchObject({
      code: 'trust-anchors-empty',
      source: 'notes.txt',
    });
  });

  it('reports corrupt DER as invalid', () => {
    expect(thrown(() => parseTrustAnchors(der(pki.rootPem).subarray(0, 50)))).toMatchObject({
      code: 'trust-anchors-invalid',
    });
  });
});

describe('parseCertificates', () => {
  it('reads a PEM bundle in order', () => {
    const certs = parseCertificates(pem(pki.intermediatePem) + pem(pki.rootPem));
    expect(certs.map((c) => c.subject.split('\n').pop())).toEqual([
      'CN=SUP Test Intermediate CA',
      'CN=SUP Test Root CA',
    ]);
  });

  it('reads one DER certificate and concatenated DER certificates byte-exactly', () => {
    const single = parseCertificates(der(pki.rootPem));
    expect(single).toHaveLength(1);
    expect(Buffer.from(single[0]?.raw ?? []).equals(der(pki.rootPem))).toBe(true);
    const both = parseCertificates(
      Buffer.concat([der(pki.signers.ecdsa.certPem), der(pki.intermediatePem)]),
    );
    expect(both.map((c) => Buffer.from(c.raw).equals(der(pki.intermediatePem)))).toEqual([
      false,
      true,
    ]);
  });

  it('returns nothing for PEM without certificates', () => {
    expect(parseCertificates(pem(pki.signers.ecdsa.keyPem))).toEqual([]);
  });

  it.each([
    ['garbage', () => Buffer.from('definitely not a certificate')],
    ['truncated DER', () => der(pki.rootPem).subarray(0, 100)],
    ['valid DER that is not a certificate', () => Buffer.from('3003020101', 'hex')],
    ['a corrupt PEM body', () => pem(pki.rootPem).replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!')],
  ])('throws CertificateParseError for %s', (_label, input) => {
    expect(thrown(() => parseCertificates(input()))).toBeInstanceOf(CertificateParseError);
  });
});

import { createTestPki, type TestPki, type TestSigner } from '@sup/testing';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { certificateInfoFromDer } from './certificate-info';
import { ChainCache } from './chain-cache';
import { verifyDetachedCms, type CmsVerification } from './cms-verify';
import { CrlParseError, parseCrl, type Crl } from './crl';
import { CmsVerificationError, type CmsVerificationErrorCode } from './errors';
import type { CrlSource, RevocationFailMode } from './revocation';
import { parseTrustAnchors, type TrustAnchors } from './trust-anchors';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;
let anchors: TrustAnchors;
let signature: Buffer;
const content = Buffer.from('a signed update');
const HOUR = 3_600_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-revocation-'));
  pki = await createTestPki(join(dir, 'pki'));
  anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem);
  signature = await pki.signBuffer(content, 'rsa');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const source = (crl: Crl | undefined, location = 'test.crl', error?: string): CrlSource => ({
  location,
  ...(crl ? { crl } : {}),
  ...(error ? { error } : {}),
});

async function verifyWith(
  sources: CrlSource[],
  failMode: RevocationFailMode = 'closed',
  opts: { sig?: Buffer; cache?: ChainCache | null } = {},
): Promise<CmsVerification> {
  return verifyDetachedCms({
    signature: opts.sig ?? signature,
    content: () => Readable.from([content]),
    trustAnchors: anchors,
    revocation: { sources, failMode },
    chainCache: opts.cache ?? null,
  });
}

async function failure(promise: Promise<unknown>, code: CmsVerificationErrorCode) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CmsVerificationError);
  expect(error).toMatchObject({ code, stage: 'signature' });
  return (error as Error).message;
}

const crlOf = async (...args: Parameters<TestPki['makeCrl']>) =>
  parseCrl(await pki.makeCrl(...args), 'test.crl');

describe('parseCrl', () => {
  it('reads the issuer, the update times and the revoked serials, from DER or PEM', async () => {
    const thisUpdate = new Date(Math.floor(Date.now() / 1000) * 1000 - HOUR);
    const der = await pki.makeCrl('intermediate', {
      revoked: [pki.signers.rsa.certPem, pki.signers.ecdsa.certPem],
      thisUpdate,
    });
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64')}\n-----END X509 CRL-----\n`;
    for (const input of [der, Buffer.from(pem)]) {
      const crl = parseCrl(input, 'x');
      expect(crl.issuer).toBe('O=SUP Test PKI, CN=SUP Test Intermediate CA');
      expect(crl.authorityKeyId).toEqual(
        certificateInfoFromDer(new X509Certificate(readFileSync(pki.intermediatePem)).raw)
          .subjectKeyIdentifier,
      );
      expect(crl.thisUpdate).toEqual(thisUpdate);
      expect(crl.nextUpdate?.getTime()).toBeGreaterThan(Date.now());
      const serial = (path: string) => new X509Certificate(readFileSync(path)).serialNumber;
      expect([...crl.revoked].sort()).toEqual(
        [serial(pki.signers.rsa.certPem), serial(pki.signers.ecdsa.certPem)].sort(),
      );
    }
  });

  it('refuses garbage, truncation and trailing bytes with CrlParseError', async () => {
    const der = await pki.makeCrl('root');
    for (const bad of [
      Buffer.from('not a crl'),
      der.subarray(0, der.length - 1),
      Buffer.concat([der, Buffer.from([0])]),
      Buffer.from('-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n'),
    ]) {
      expect(() => parseCrl(bad, 'bad.crl')).toThrow(CrlParseError);
    }
    expect(() => parseCrl(Buffer.from('junk'), 'bad.crl')).toThrow(/CRL bad.crl is invalid/);
  });
});

describe('revocation', () => {
  it('accepts a signer no CRL lists, with fresh CRLs from every issuer of the chain', async () => {
    const result = await verifyWith([
      source(await crlOf('root')),
      source(await crlOf('intermediate', { revoked: [pki.signers.ecdsa.certPem] })),
    ]);
    expect(result.warnings).toBeUndefined();
  });

  it('refuses a revoked signer', async () => {
    const crl = await crlOf('intermediate', { revoked: [pki.signers.rsa.certPem] });
    expect(await failure(verifyWith([source(crl)]), 'certificate-revoked')).toContain(
      'SUP Test Signer rsa',
    );
  });

  it('refuses a signer whose intermediate is revoked', async () => {
    const crl = await crlOf('root', { revoked: [pki.intermediatePem] });
    expect(await failure(verifyWith([source(crl)]), 'certificate-revoked')).toContain(
      'SUP Test Intermediate CA',
    );
  });

  it('checks revocation on every call, even when the chain comes from the cache', async () => {
    const cache = new ChainCache();
    await verifyWith([], 'closed', { cache });
    const crl = await crlOf('intermediate', { revoked: [pki.signers.rsa.certPem] });
    await failure(verifyWith([source(crl)], 'closed', { cache }), 'certificate-revoked');
    expect(cache.stats().hits).toBe(1);
  });

  it('ignores the CRL of another CA with the same name (another key identifier)', async () => {
    // What a rotated intermediate looks like: same name, new key.
    const namesake = await pki.issueCa('SUP Test Intermediate CA');
    const crl = await crlOf(namesake, { revoked: [pki.signers.rsa.certPem] });
    expect(crl.issuer).toBe('O=SUP Test PKI, CN=SUP Test Intermediate CA');
    const result = await verifyWith([source(crl)]);
    expect(result.warnings).toBeUndefined();
  });

  it('ignores CRLs of issuers outside the chain', async () => {
    const other = await pki.issueCa('Unrelated CA');
    await expect(verifyWith([source(await crlOf(other))])).resolves.toBeDefined();
  });

  describe.each<[string, () => Promise<CrlSource>]>([
    [
      'a CRL past its nextUpdate',
      async () =>
        source(
          await crlOf('intermediate', {
            thisUpdate: new Date(Date.now() - 48 * HOUR),
            nextUpdate: new Date(Date.now() - HOUR),
          }),
        ),
    ],
    [
      'a CRL not yet valid',
      async () =>
        source(await crlOf('intermediate', { thisUpdate: new Date(Date.now() + 2 * HOUR) })),
    ],
    [
      "a CRL in the issuer's name signed by another key",
      async () =>
        source(
          await crlOf({
            name: 'impostor',
            certPem: pki.intermediatePem,
            keyPem: join(pki.dir, 'rogueRoot.key'),
            chainPem: pki.intermediatePem,
          }),
        ),
    ],
    [
      'a CRL source never loaded',
      () => Promise.resolve(source(undefined, 'https://crl.example/x.crl', 'HTTP 503')),
    ],
  ])('with %s', (_label, make) => {
    it('refuses when fail-closed', async () => {
      expect(await failure(verifyWith([await make()]), 'revocation-unavailable')).toMatch(
        /revocation status unknown/,
      );
    });

    it('accepts with a warning when fail-open', async () => {
      const result = await verifyWith([await make()], 'open');
      expect(result.warnings).toEqual([expect.stringMatching(/revocation status unknown/)]);
    });
  });

  it('lets one usable CRL of an issuer stand in for a stale one', async () => {
    const stale = await crlOf('intermediate', {
      thisUpdate: new Date(Date.now() - 48 * HOUR),
      nextUpdate: new Date(Date.now() - HOUR),
    });
    await expect(
      verifyWith([source(stale, 'a.crl'), source(await crlOf('intermediate'), 'b.crl')]),
    ).resolves.toBeDefined();
  });

  it('reports a revocation rather than an unknown status, even fail-closed', async () => {
    const crl = await crlOf('intermediate', { revoked: [pki.signers.rsa.certPem] });
    await failure(
      verifyWith([source(undefined, 'https://down.example/', 'timeout'), source(crl)]),
      'certificate-revoked',
    );
  });

  it('refuses a revoked signer before reading the content', async () => {
    const crl = await crlOf('intermediate', { revoked: [pki.signers.rsa.certPem] });
    const read = jest.fn(() => Readable.from([content]));
    await expect(
      verifyDetachedCms({
        signature,
        content: read,
        trustAnchors: anchors,
        revocation: { sources: [source(crl)], failMode: 'closed' },
      }),
    ).rejects.toMatchObject({ code: 'certificate-revoked' });
    expect(read).not.toHaveBeenCalled();
  });

  it('applies to signers with their own CA too', async () => {
    const ca = await pki.issueCa('Second Issuing CA');
    const signer: TestSigner = await pki.issueSigner('second-ca-signer', { issuer: ca });
    const sig = await pki.signBuffer(content, signer);
    await expect(verifyWith([source(await crlOf(ca))], 'closed', { sig })).resolves.toBeDefined();
    const crl = await crlOf(ca, { revoked: [signer.certPem] });
    await failure(verifyWith([source(crl)], 'closed', { sig }), 'certificate-revoked');
  });
});

import {
  createTestPki,
  generateKey,
  issueCertificate,
  runOpenssl,
  type TestPki,
  type TestSigner,
} from '@sup/testing';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenOf, parseDer, sequence } from './asn1';
import { ContentTooLargeError } from './byte-source';
import { ChainCache, defaultChainCache } from './chain-cache';
import { DEFAULT_CRYPTO_POLICY, type CryptoPolicy } from './crypto-policy';
import { CmsVerificationError, type CmsVerificationErrorCode } from './errors';
import { verifyDetachedCms, type CmsVerification, type VerifyDetachedCmsInput } from './cms-verify';
import { parseTrustAnchors, type TrustAnchors } from './trust-anchors';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;
let anchors: TrustAnchors;
let artifact: string;
let artifactBytes: Buffer;
let other: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-cms-'));
  pki = await createTestPki(join(dir, 'pki'));
  anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem);
  artifact = join(dir, 'artifact.bin');
  // Larger than one read chunk so the streaming paths see several chunks.
  artifactBytes = randomBytes(3 * 1024 * 1024 + 17);
  await writeFile(artifact, artifactBytes);
  other = join(dir, 'other.bin');
  await writeFile(other, randomBytes(4096));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Overrides = Partial<Omit<VerifyDetachedCmsInput, 'signature'>>;

async function verify(
  signature: string | Buffer,
  overrides: Overrides = {},
): Promise<CmsVerification> {
  return verifyDetachedCms({
    signature: typeof signature === 'string' ? await readFile(signature) : signature,
    content: () => createReadStream(artifact),
    trustAnchors: anchors,
    ...overrides,
  });
}

async function expectFailure(
  promise: Promise<unknown>,
  code: CmsVerificationErrorCode,
): Promise<CmsVerificationError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CmsVerificationError);
  expect(error).toMatchObject({
    code,
    stage: code === 'policy-violation' ? 'policy' : 'signature',
  });
  return error as CmsVerificationError;
}

const fingerprint = (pemPath: string) =>
  createHash('sha256')
    .update(new X509Certificate(readFileSync(pemPath)).raw)
    .digest('hex');
const der = (pemPath: string) => Buffer.from(new X509Certificate(readFileSync(pemPath)).raw);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Yields `data` in `size`-byte chunks from an asynchronous producer, like a network body. */
async function* chunks(data: Buffer, size = 256 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) {
    await Promise.resolve();
    yield data.subarray(i, i + size);
  }
}

const ROOT = 'O=SUP Test PKI, CN=SUP Test Root CA';
const INTERMEDIATE = 'O=SUP Test PKI, CN=SUP Test Intermediate CA';

/** `openssl cms -sign` with options `pki.sign` does not offer (several signers, -keyid, -nodetach). */
async function cmsSign(
  name: string,
  input: string,
  signers: TestSigner[],
  extra: string[],
): Promise<string> {
  const out = join(dir, name);
  const signerArgs = signers.flatMap((s) => ['-signer', s.certPem, '-inkey', s.keyPem]);
  await runOpenssl([
    'cms',
    '-sign',
    '-binary',
    '-outform',
    'DER',
    ...extra,
    ...signerArgs,
    '-in',
    input,
    '-out',
    out,
  ]);
  return out;
}

/** Issues an extra certificate with the openssl CLI, for chain rules the standard PKI does not break. */
async function issue(
  name: string,
  caCert: string,
  caKey: string,
  extensions: string[],
  digest = 'sha256',
): Promise<TestSigner> {
  const key = join(dir, `${name}.key`);
  await generateKey(key, { kind: 'ec', curve: 'P-256' });
  const cert = await issueCertificate({
    dir,
    name,
    subject: `/O=SUP Test PKI/CN=${name}`,
    key,
    caCert,
    caKey,
    extensions: extensions.join('\n'),
    days: 30,
    digest,
  });
  return {
    name,
    subject: `O=SUP Test PKI, CN=${name}`,
    certPem: cert,
    keyPem: key,
    chainPem: pki.intermediatePem,
  };
}

/** A leaf the strict signer policy accepts; tests about other rules start from it. */
const LEAF_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=codeSigning',
];

describe('verifyDetachedCms: valid signatures', () => {
  it('accepts RSA PKCS#1 v1.5 with signed attributes and reports the signer and chain', async () => {
    const result = await verify(await pki.sign(artifact, 'rsa'));
    expect(result).toMatchObject({
      signatureAlgorithm: 'rsa-pkcs1-v1_5',
      digestAlgorithm: 'sha256',
      signedAttributes: true,
      chain: ['O=SUP Test PKI, CN=SUP Test Signer rsa', INTERMEDIATE, ROOT],
      content: { sha256: sha256(artifactBytes), size: artifactBytes.length },
    });
    const cert = new X509Certificate(readFileSync(pki.signers.rsa.certPem));
    expect(result.signer).toEqual({
      subject: 'O=SUP Test PKI, CN=SUP Test Signer rsa',
      issuer: INTERMEDIATE,
      serialNumber: cert.serialNumber,
      sha256Fingerprint: fingerprint(pki.signers.rsa.certPem),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
    });
    expect(result.signingTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('accepts RSA-PSS and honours the salt length in the parameters', async () => {
    const result = await verify(await pki.sign(artifact, 'pss', { pss: true }));
    expect(result).toMatchObject({
      signatureAlgorithm: 'rsa-pss',
      digestAlgorithm: 'sha256',
      signedAttributes: true,
    });
    const short = await verify(await pki.sign(artifact, 'pss', { pss: true, pssSaltLength: 32 }));
    expect(short.signatureAlgorithm).toBe('rsa-pss');
  });

  it('accepts ECDSA P-256', async () => {
    const result = await verify(await pki.sign(artifact, 'ecdsa'));
    expect(result).toMatchObject({
      signatureAlgorithm: 'ecdsa',
      digestAlgorithm: 'sha256',
      signer: { subject: 'O=SUP Test PKI, CN=SUP Test Signer ecdsa' },
    });
  });

  it.each([
    ['rsa', 'sha384'],
    ['ecdsa', 'sha384'],
    ['rsa', 'sha512'],
  ] as const)('accepts %s with %s', async (signer, digest) => {
    const result = await verify(await pki.sign(artifact, signer, { digest }));
    expect(result.digestAlgorithm).toBe(digest);
    // The returned SHA-256 is computed alongside the signer's digest.
    expect(result.content.sha256).toBe(sha256(artifactBytes));
  });

  it.each([
    ['rsa', false, 'rsa-pkcs1-v1_5'],
    ['pss', true, 'rsa-pss'],
    ['ecdsa', false, 'ecdsa'],
  ] as const)('accepts %s without signed attributes (-noattr)', async (signer, pss, scheme) => {
    const result = await verify(await pki.sign(artifact, signer, { noAttributes: true, pss }));
    expect(result).toMatchObject({ signatureAlgorithm: scheme, signedAttributes: false });
    expect(result.signingTime).toBeUndefined();
    expect(result.content).toEqual({ sha256: sha256(artifactBytes), size: artifactBytes.length });
  });

  it('finds the intermediate among extraCertificates when the CMS lacks it', async () => {
    const signature = await pki.sign(artifact, 'rsa', { includeIntermediate: false });
    const error = await expectFailure(verify(signature), 'untrusted-chain');
    expect(error.message).toContain('SUP Test Signer rsa');

    const withPem = await verify(signature, {
      extraCertificates: [readFileSync(pki.intermediatePem)],
    });
    expect(withPem.chain).toEqual(['O=SUP Test PKI, CN=SUP Test Signer rsa', INTERMEDIATE, ROOT]);
    const withDer = await verify(signature, { extraCertificates: [der(pki.intermediatePem)] });
    expect(withDer.chain).toHaveLength(3);
  });

  it('finds the signer certificate among extraCertificates (-nocerts)', async () => {
    const signature = await pki.sign(artifact, 'ecdsa', {
      noCerts: true,
      includeIntermediate: false,
    });
    await expectFailure(verify(signature), 'no-signer');
    await expectFailure(
      verify(signature, { extraCertificates: [readFileSync(pki.signers.ecdsa.certPem)] }),
      'untrusted-chain',
    );
    const bundle = Buffer.concat([
      readFileSync(pki.signers.ecdsa.certPem),
      readFileSync(pki.intermediatePem),
    ]);
    const result = await verify(signature, { extraCertificates: [bundle] });
    expect(result.signer.sha256Fingerprint).toBe(fingerprint(pki.signers.ecdsa.certPem));
  });

  it('matches a signer identified by subjectKeyIdentifier (-keyid)', async () => {
    const out = await cmsSign(
      'keyid.p7s',
      artifact,
      [pki.signers.rsa],
      ['-md', 'sha256', '-keyid', '-certfile', pki.intermediatePem],
    );
    const result = await verify(out);
    expect(result.signer.subject).toBe('O=SUP Test PKI, CN=SUP Test Signer rsa');
  });

  it('accepts a PEM-armoured signature and async-iterable content', async () => {
    const signature = await readFile(await pki.sign(artifact, 'rsa'));
    const pem = `-----BEGIN CMS-----\n${signature.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CMS-----\n`;
    const result = await verify(Buffer.from(pem), {
      content: () => chunks(artifactBytes, 100_000),
    });
    expect(result.content.size).toBe(artifactBytes.length);
  });

  it('accepts a BER signature with indefinite lengths', async () => {
    const der = await readFile(await pki.sign(artifact, 'rsa'));
    // ContentInfo, its [0] and SignedData re-wrapped with indefinite lengths, as streaming
    // encoders write them; everything inside keeps its DER.
    const [contentType, explicit] = sequence(parseDer(der, 'cms'), 'ContentInfo');
    const indefinite = (tag: number, parts: Buffer[]) =>
      Buffer.concat([Buffer.from([tag, 0x80]), ...parts, Buffer.alloc(2)]);
    const signedData = sequence(childrenOf(explicit, '[0]')[0], 'SignedData');
    const ber = indefinite(0x30, [
      contentType?.encoded ?? Buffer.alloc(0),
      indefinite(0xa0, [
        indefinite(
          0x30,
          signedData.map((field) => field.encoded),
        ),
      ]),
    ]);
    expect([ber[1], der[1]]).toEqual([0x80, 0x82]);
    const result = await verify(ber);
    expect(result.chain).toEqual(['O=SUP Test PKI, CN=SUP Test Signer rsa', INTERMEDIATE, ROOT]);
  });

  it('accepts an intermediate configured as the trust anchor', async () => {
    const result = await verify(await pki.sign(artifact, 'rsa'), {
      trustAnchors: parseTrustAnchors(readFileSync(pki.intermediatePem)),
    });
    expect(result.chain).toEqual(['O=SUP Test PKI, CN=SUP Test Signer rsa', INTERMEDIATE]);
  });
});

describe('verifyDetachedCms: signature failures', () => {
  it('reports tampered content as digest-mismatch (signed attributes)', async () => {
    const signature = await pki.sign(artifact, 'rsa');
    const tampered = Buffer.from(artifactBytes);
    tampered[1_000_000] ^= 0x01;
    const error = await expectFailure(
      verify(signature, { content: () => chunks(tampered) }),
      'digest-mismatch',
    );
    expect(error.message).toContain('sha256');
  });

  it('reports tampered content as bad-signature (no signed attributes)', async () => {
    const signature = await pki.sign(artifact, 'ecdsa', { noAttributes: true });
    const tampered = Buffer.concat([artifactBytes, Buffer.from([0])]);
    await expectFailure(verify(signature, { content: () => chunks(tampered) }), 'bad-signature');
  });

  it('rejects a signer that does not chain to the trust anchors', async () => {
    // The rogue root copies the trusted root's name: only the signature check tells them apart.
    const error = await expectFailure(verify(await pki.sign(artifact, 'rogue')), 'untrusted-chain');
    expect(error.message).toContain('SUP Test Signer rogue');
    await expectFailure(
      verify(await pki.sign(artifact, 'rogue'), {
        extraCertificates: [readFileSync(pki.rogueRootPem)],
      }),
      'untrusted-chain',
    );
  });

  it('rejects a valid signature when only the rogue root is trusted', async () => {
    await expectFailure(
      verify(await pki.sign(artifact, 'rsa'), {
        trustAnchors: parseTrustAnchors(readFileSync(pki.rogueRootPem)),
      }),
      'untrusted-chain',
    );
  });

  it('rejects a signature swapped from another file', async () => {
    await expectFailure(verify(await pki.sign(other, 'rsa')), 'digest-mismatch');
    await expectFailure(
      verify(await pki.sign(other, 'rsa', { noAttributes: true })),
      'bad-signature',
    );
  });

  it('rejects signed attributes altered after signing without reading the content', async () => {
    const signature = await readFile(await pki.sign(artifact, 'rsa'));
    const signingTimeOid = Buffer.from('06092a864886f70d010905', 'hex');
    const at = signature.indexOf(signingTimeOid);
    expect(at).toBeGreaterThan(0);
    // OID, SET header and UTCTime header precede "YYMMDDhhmmssZ"; bump the seconds' last digit.
    const digit = at + signingTimeOid.length + 4 + 11;
    signature[digit] = 0x30 + ((signature[digit] - 0x30 + 1) % 10);
    const content = jest.fn(() => createReadStream(artifact));
    await expectFailure(verify(signature, { content }), 'bad-signature');
    expect(content).not.toHaveBeenCalled();
  });

  it('rejects a corrupted signature value', async () => {
    const signature = await readFile(await pki.sign(artifact, 'ecdsa'));
    signature[signature.length - 5] ^= 0xff;
    await expectFailure(verify(signature), 'bad-signature');
  });

  it('rejects an expired signer certificate', async () => {
    const error = await expectFailure(
      verify(await pki.sign(artifact, 'expired')),
      'certificate-expired',
    );
    expect(error.message).toContain('2021-01-01T00:00:00.000Z');
  });

  it('evaluates validity at the given time', async () => {
    const signature = await pki.sign(artifact, 'rsa');
    await expectFailure(
      verify(signature, { now: new Date('2100-01-01T00:00:00Z') }),
      'certificate-expired',
    );
    await expectFailure(
      verify(signature, { now: new Date('2001-01-01T00:00:00Z') }),
      'certificate-not-yet-valid',
    );
  });

  it('rejects a leaf issued by a certificate that is not a CA', async () => {
    const leaf = await issue(
      'not-ca-child',
      pki.signers.rsa.certPem,
      pki.signers.rsa.keyPem,
      LEAF_EXTENSIONS,
    );
    const signature = await pki.sign(artifact, leaf, { includeIntermediate: false });
    const error = await expectFailure(
      verify(signature, {
        extraCertificates: [
          readFileSync(pki.signers.rsa.certPem),
          readFileSync(pki.intermediatePem),
        ],
      }),
      'untrusted-chain',
    );
    expect(error.message).toContain('is not a CA certificate');
  });

  it('rejects a signer whose extendedKeyUsage excludes code signing', async () => {
    const leaf = await issue('mail-only', pki.intermediatePem, pki.intermediateKeyPem, [
      ...LEAF_EXTENSIONS.slice(0, 2),
      'extendedKeyUsage=emailProtection',
    ]);
    const error = await expectFailure(
      verify(await pki.sign(artifact, leaf)),
      'certificate-wrong-usage',
    );
    expect(error.message).toContain('codeSigning');
  });

  it('rejects an attached (non-detached) signature', async () => {
    const out = await cmsSign('attached.p7s', other, [pki.signers.rsa], ['-nodetach']);
    const error = await expectFailure(verify(out), 'malformed-signature');
    expect(error.message).toContain('detached');
  });

  it('refuses more than one signer', async () => {
    const out = await cmsSign(
      'two-signers.p7s',
      artifact,
      [pki.signers.rsa, pki.signers.ecdsa],
      ['-certfile', pki.intermediatePem],
    );
    await expectFailure(verify(out), 'malformed-signature');
  });
});

describe('verifyDetachedCms: crypto policy', () => {
  it('refuses a SHA-1 digest at the policy stage', async () => {
    const error = await expectFailure(
      verify(await pki.sign(artifact, 'rsa', { digest: 'sha1' })),
      'policy-violation',
    );
    expect(error.message).toContain('sha1');
  });

  it('still reports tampering before policy for SHA-1', async () => {
    await expectFailure(
      verify(await pki.sign(other, 'rsa', { digest: 'sha1' })),
      'digest-mismatch',
    );
  });

  it('refuses an RSA-1024 signer at the policy stage', async () => {
    const error = await expectFailure(
      verify(await pki.sign(artifact, 'weakRsa')),
      'policy-violation',
    );
    expect(error.message).toContain('1024-bit');
  });

  it('reports a forged RSA-1024 signature as a signature failure, not a policy one', async () => {
    await expectFailure(
      verify(await pki.sign(other, 'weakRsa', { noAttributes: true })),
      'bad-signature',
    );
  });

  it('applies a narrower policy to digests, RSA sizes and curves', async () => {
    const strict = (p: Partial<CryptoPolicy>): Overrides => ({
      policy: { ...DEFAULT_CRYPTO_POLICY, ...p },
    });
    await expectFailure(
      verify(await pki.sign(artifact, 'rsa'), strict({ allowedDigests: ['sha384'] })),
      'policy-violation',
    );
    const rsa = await expectFailure(
      verify(await pki.sign(artifact, 'rsa'), strict({ minRsaBits: 4096 })),
      'policy-violation',
    );
    expect(rsa.message).toContain('2048-bit');
    expect(rsa.message).toContain('3072-bit'); // the root key is held to the same rule
    const ec = await expectFailure(
      verify(await pki.sign(artifact, 'ecdsa'), strict({ allowedCurves: ['secp384r1'] })),
      'policy-violation',
    );
    expect(ec.message).toContain('prime256v1');
  });

  it('refuses a certificate in the chain signed with SHA-1', async () => {
    const leaf = await issue(
      'sha1-cert',
      pki.intermediatePem,
      pki.intermediateKeyPem,
      LEAF_EXTENSIONS,
      'sha1',
    );
    const error = await expectFailure(verify(await pki.sign(artifact, leaf)), 'policy-violation');
    expect(error.message).toContain('the signature on signer certificate');
  });
});

describe('verifyDetachedCms: unusable input', () => {
  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['whitespace', Buffer.from(' \n')],
  ])('reports %s as empty-signature', async (_label, signature) => {
    await expectFailure(verify(signature), 'empty-signature');
  });

  it('reports garbage as malformed-signature without opening the content', async () => {
    const content = jest.fn(() => createReadStream(artifact));
    await expectFailure(verify(randomBytes(512), { content }), 'malformed-signature');
    await expectFailure(
      verify(Buffer.from('this is not a signature'), { content }),
      'malformed-signature',
    );
    expect(content).not.toHaveBeenCalled();
  });

  it('reports a truncated signature as malformed-signature', async () => {
    const signature = await readFile(await pki.sign(artifact, 'rsa'));
    await expectFailure(
      verify(signature.subarray(0, signature.length - 10)),
      'malformed-signature',
    );
  });

  it('reports DER that is not SignedData as malformed-signature', async () => {
    await expectFailure(verify(der(pki.rootPem)), 'malformed-signature');
  });

  it('reports unusable extra certificates as malformed-signature', async () => {
    await expectFailure(
      verify(await pki.sign(artifact, 'rsa'), { extraCertificates: [Buffer.from('junk')] }),
      'malformed-signature',
    );
  });

  it('stops reading content past maxContentBytes', async () => {
    const signature = await pki.sign(artifact, 'rsa');
    await expect(verify(signature, { maxContentBytes: 1024 })).rejects.toBeInstanceOf(
      ContentTooLargeError,
    );
    await expect(
      verify(signature, { maxContentBytes: artifactBytes.length }),
    ).resolves.toMatchObject({
      content: { size: artifactBytes.length },
    });
  });

  it('lets content read errors through unchanged', async () => {
    const signature = await pki.sign(artifact, 'rsa');
    await expect(
      verify(signature, { content: () => createReadStream(join(dir, 'missing.bin')) }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('verifyDetachedCms: chain cache', () => {
  let signature: Buffer;
  let cache: ChainCache;
  let signerNotAfter: Date;

  beforeAll(async () => {
    signature = await readFile(await pki.sign(artifact, 'rsa'));
    signerNotAfter = new Date(new X509Certificate(readFileSync(pki.signers.rsa.certPem)).validTo);
  });

  beforeEach(() => {
    cache = new ChainCache();
  });

  const cached = (sig: Buffer, overrides: Overrides = {}) =>
    verify(sig, { chainCache: cache, ...overrides });

  it('builds a signer chain once and reuses it for every signature by that signer', async () => {
    const first = await cached(signature);
    const second = await cached(await readFile(await pki.sign(other, 'rsa')), {
      content: () => createReadStream(other),
    });
    const again = await cached(signature);
    expect(cache.stats()).toMatchObject({ misses: 1, hits: 2, size: 1 });
    expect(again).toEqual(first);
    expect(second.chain).toEqual(first.chain);
    expect(second.content.size).toBe(4096);
  });

  it('uses the shared default cache unless told otherwise, and none with null', async () => {
    const before = defaultChainCache.stats();
    await verify(signature);
    const after = defaultChainCache.stats();
    expect(after.hits + after.misses).toBe(before.hits + before.misses + 1);
    await verify(signature, { chainCache: null });
    expect(defaultChainCache.stats()).toEqual(after);
  });

  it('does not reuse a chain for another trust anchor set', async () => {
    await cached(signature);
    await expectFailure(
      cached(signature, { trustAnchors: parseTrustAnchors(readFileSync(pki.rogueRootPem)) }),
      'untrusted-chain',
    );
    const viaIntermediate = await cached(signature, {
      trustAnchors: parseTrustAnchors(readFileSync(pki.intermediatePem)),
    });
    expect(viaIntermediate.chain).toEqual(['O=SUP Test PKI, CN=SUP Test Signer rsa', INTERMEDIATE]);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3 });
    // The same anchors loaded again are the same trust: the chain is reused.
    await cached(signature, {
      trustAnchors: parseTrustAnchors(readFileSync(pki.trustAnchorsPem), 'reloaded'),
    });
    expect(cache.stats()).toMatchObject({ hits: 1 });
  });

  it('does not reuse a chain for another policy', async () => {
    await cached(signature);
    const error = await expectFailure(
      cached(signature, { policy: { ...DEFAULT_CRYPTO_POLICY, minRsaBits: 4096 } }),
      'policy-violation',
    );
    expect(error.message).toContain('2048-bit');
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it('does not reuse a chain once a certificate on it has expired', async () => {
    await cached(signature);
    await expect(cached(signature, { now: signerNotAfter })).resolves.toBeDefined();
    expect(cache.stats()).toMatchObject({ hits: 1 });
    await expectFailure(
      cached(signature, { now: new Date(signerNotAfter.getTime() + 1000) }),
      'certificate-expired',
    );
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, size: 0 });
  });

  it('does not reuse a chain without the intermediates it was built from', async () => {
    const bare = await readFile(await pki.sign(artifact, 'rsa', { includeIntermediate: false }));
    await cached(bare, { extraCertificates: [readFileSync(pki.intermediatePem)] });
    await expectFailure(cached(bare), 'untrusted-chain');
  });

  it('still verifies every signature over a cached chain', async () => {
    await cached(signature);
    const corrupted = Buffer.from(signature);
    corrupted[corrupted.length - 5] ^= 0xff;
    await expectFailure(cached(corrupted), 'bad-signature');

    const tampered = Buffer.from(artifactBytes);
    tampered[12_345] ^= 0x01;
    await expectFailure(cached(signature, { content: () => chunks(tampered) }), 'digest-mismatch');

    const noAttributes = await readFile(await pki.sign(artifact, 'rsa', { noAttributes: true }));
    await cached(noAttributes);
    await expectFailure(cached(noAttributes, { content: () => chunks(tampered) }), 'bad-signature');
    expect(cache.stats()).toMatchObject({ misses: 1, hits: 4 });
  });
});

import {
  CA_EXTENSION_VARIANTS,
  createTestPki,
  issueCertificate,
  generateKey,
  SIGNER_EXTENSION_VARIANTS,
  type TestPki,
  type TestSigner,
} from '@sup/testing';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChainCache } from './chain-cache';
import { verifyDetachedCms, type CmsVerification } from './cms-verify';
import { CmsVerificationError } from './errors';
import { OID } from './oids';
import { DEFAULT_SIGNER_POLICY, LENIENT_SIGNER_POLICY, type SignerPolicy } from './signer-policy';
import { parseTrustAnchors, type TrustAnchors } from './trust-anchors';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;
let anchors: TrustAnchors;
const content = Buffer.from('an update the vendor signed');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-signer-policy-'));
  pki = await createTestPki(join(dir, 'pki'));
  anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function verifyAs(
  signer: TestSigner,
  signerPolicy?: SignerPolicy,
  chainCache: ChainCache | null = null,
): Promise<CmsVerification> {
  return verifyDetachedCms({
    signature: await pki.signBuffer(content, signer),
    content: () => Readable.from([content]),
    trustAnchors: anchors,
    ...(signerPolicy ? { signerPolicy } : {}),
    chainCache,
  });
}

async function wrongUsage(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CmsVerificationError);
  expect(error).toMatchObject({ code: 'certificate-wrong-usage', stage: 'signature' });
  return (error as Error).message;
}

describe('signer policy (strict by default)', () => {
  it('accepts a code-signing leaf with digitalSignature', async () => {
    const signer = await pki.issueSigner('strict', {
      extensions: SIGNER_EXTENSION_VARIANTS.strict,
    });
    await expect(verifyAs(signer)).resolves.toMatchObject({ signer: { subject: signer.subject } });
  });

  it('refuses a leaf without extendedKeyUsage', async () => {
    const signer = await pki.issueSigner('no-eku', { extensions: SIGNER_EXTENSION_VARIANTS.noEku });
    expect(await wrongUsage(verifyAs(signer))).toContain('has no extendedKeyUsage');
  });

  it('refuses a leaf whose only extendedKeyUsage is anyExtendedKeyUsage', async () => {
    const signer = await pki.issueSigner('any-eku', {
      extensions: SIGNER_EXTENSION_VARIANTS.anyEku,
    });
    expect(await wrongUsage(verifyAs(signer))).toContain('anyExtendedKeyUsage is not enough');
  });

  it('refuses a leaf whose keyUsage lacks digitalSignature', async () => {
    const signer = await pki.issueSigner('non-repudiation', {
      extensions: SIGNER_EXTENSION_VARIANTS.noDigitalSignature,
    });
    expect(await wrongUsage(verifyAs(signer))).toContain('lacks digitalSignature');
  });

  it('refuses a leaf without keyUsage', async () => {
    const signer = await pki.issueSigner('no-key-usage', {
      extensions: SIGNER_EXTENSION_VARIANTS.noKeyUsage,
    });
    expect(await wrongUsage(verifyAs(signer))).toContain('has no keyUsage extension');
  });

  it('requires the configured EKU, not code signing, when told so', async () => {
    const mail: SignerPolicy = {
      ...DEFAULT_SIGNER_POLICY,
      requiredExtendedKeyUsages: ['1.3.6.1.5.5.7.3.4'],
    };
    expect(await wrongUsage(verifyAs(pki.signers.rsa, mail))).toContain('1.3.6.1.5.5.7.3.4');
    const either: SignerPolicy = {
      ...DEFAULT_SIGNER_POLICY,
      requiredExtendedKeyUsages: ['1.3.6.1.5.5.7.3.4', OID.codeSigning],
    };
    await expect(verifyAs(pki.signers.rsa, either)).resolves.toBeDefined();
  });

  it('the lenient policy accepts what the strict one refuses, except a keyUsage without signing', async () => {
    for (const extensions of [
      SIGNER_EXTENSION_VARIANTS.noEku,
      SIGNER_EXTENSION_VARIANTS.anyEku,
      SIGNER_EXTENSION_VARIANTS.noKeyUsage,
      SIGNER_EXTENSION_VARIANTS.noDigitalSignature,
    ]) {
      const signer = await pki.issueSigner('lenient', { extensions });
      await expect(verifyAs(signer, LENIENT_SIGNER_POLICY)).resolves.toBeDefined();
    }
    const encipherOnly = await pki.issueSigner('key-encipherment', {
      extensions: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,keyEncipherment',
    });
    expect(await wrongUsage(verifyAs(encipherOnly, LENIENT_SIGNER_POLICY))).toContain(
      'does not allow digital signatures',
    );
  });

  it('never reuses a chain cached under another signer policy', async () => {
    const signer = await pki.issueSigner('cached', { extensions: SIGNER_EXTENSION_VARIANTS.noEku });
    const cache = new ChainCache();
    await verifyAs(signer, LENIENT_SIGNER_POLICY, cache);
    await wrongUsage(verifyAs(signer, DEFAULT_SIGNER_POLICY, cache));
  });
});

describe('CA rules (not configurable)', () => {
  it.each([
    ['keyUsage without keyCertSign', CA_EXTENSION_VARIANTS.noKeyCertSign],
    ['no keyUsage at all', CA_EXTENSION_VARIANTS.noKeyUsage],
  ])('refuses a chain through a CA with %s, whatever the signer policy', async (_label, ext) => {
    const ca = await pki.issueCa('CA without keyCertSign', { extensions: ext });
    const signer = await pki.issueSigner('under-bad-ca', { issuer: ca });
    for (const policy of [DEFAULT_SIGNER_POLICY, LENIENT_SIGNER_POLICY]) {
      expect(await wrongUsage(verifyAs(signer, policy))).toContain('keyCertSign');
    }
  });

  it('calls an untrusted CA without keyCertSign an untrusted chain, not a usage problem', async () => {
    const key = join(pki.dir, 'stray-ca.key');
    await generateKey(key, { kind: 'ec', curve: 'P-256' });
    const certPem = await issueCertificate({
      dir: pki.dir,
      name: 'stray-ca',
      subject: '/O=SUP Test PKI/CN=Stray CA',
      key,
      caCert: pki.rogueRootPem,
      caKey: join(pki.dir, 'rogueRoot.key'),
      extensions: CA_EXTENSION_VARIANTS.noKeyCertSign,
      days: 30,
    });
    const signer = await pki.issueSigner('under-stray-ca', {
      issuer: { name: 'stray', certPem, keyPem: key, chainPem: certPem },
    });
    await expect(verifyAs(signer)).rejects.toMatchObject({ code: 'untrusted-chain' });
  });
});

import { createTestPki, type TestPki } from '@sup/testing';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateInfoFromDer, type CertificateInfo } from './certificate-info';
import { parseCertificateInfos } from './certificates';
import { buildTrustedChain, type TrustedChain } from './chain';
import { ChainCache, chainCacheKey, type ChainCacheKeyParts } from './chain-cache';
import { DEFAULT_CRYPTO_POLICY } from './crypto-policy';
import { DEFAULT_SIGNER_POLICY, LENIENT_SIGNER_POLICY } from './signer-policy';
import { parseTrustAnchors, type TrustAnchors } from './trust-anchors';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;
let anchors: TrustAnchors;
let signer: CertificateInfo;
let intermediate: CertificateInfo;
let chain: TrustedChain;
/** The window in which every certificate of `chain` is valid. */
let validFrom: Date;
let validUntil: Date;

const info = (pemPath: string): CertificateInfo => {
  const [cert] = parseCertificateInfos(readFileSync(pemPath));
  if (!cert) throw new Error(`${pemPath} holds no certificate`);
  return cert;
};
const at = (ms: number) => new Date(ms);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-chain-cache-'));
  pki = await createTestPki(join(dir, 'pki'));
  anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem);
  signer = info(pki.signers.rsa.certPem);
  intermediate = info(pki.intermediatePem);
  validFrom = signer.notBefore;
  validUntil = signer.notAfter; // the leaf expires first: 825 days against the CAs' 3650
  chain = buildTrustedChain(signer, {
    intermediates: [signer, intermediate],
    anchors: anchors.certificates.map((c) => certificateInfoFromDer(c.raw)),
    now: validFrom,
    policy: DEFAULT_CRYPTO_POLICY,
    signerPolicy: DEFAULT_SIGNER_POLICY,
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parts = (overrides: Partial<ChainCacheKeyParts> = {}): ChainCacheKeyParts => ({
  signer,
  candidates: [signer, intermediate],
  anchors: anchors.certificates,
  policy: DEFAULT_CRYPTO_POLICY,
  signerPolicy: DEFAULT_SIGNER_POLICY,
  ...overrides,
});

describe('ChainCache', () => {
  it('misses, then hits once a chain is stored', () => {
    const cache = new ChainCache();
    const key = chainCacheKey(parts());
    expect(cache.get(key, validFrom)).toBeUndefined();
    cache.set(key, chain);
    expect(cache.get(key, validFrom)).toBe(chain);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, evictions: 0, size: 1 });
  });

  it('covers the chain from the latest notBefore to the earliest notAfter, both inclusive', () => {
    const cache = new ChainCache();
    const key = chainCacheKey(parts());
    cache.set(key, chain);
    expect(validFrom.getTime()).toBe(Math.max(...chain.path.map((c) => c.notBefore.getTime())));
    expect(validUntil.getTime()).toBe(Math.min(...chain.path.map((c) => c.notAfter.getTime())));
    expect(cache.get(key, validFrom)).toBe(chain);
    expect(cache.get(key, validUntil)).toBe(chain);
  });

  it('never serves a chain after notAfter, and forgets it', () => {
    const cache = new ChainCache();
    const key = chainCacheKey(parts());
    cache.set(key, chain);
    expect(cache.get(key, at(validUntil.getTime() + 1))).toBeUndefined();
    expect(cache.stats().size).toBe(0);
    expect(cache.get(key, validFrom)).toBeUndefined();
  });

  it('never serves a chain before notBefore, but keeps it for later', () => {
    const cache = new ChainCache();
    const key = chainCacheKey(parts());
    cache.set(key, chain);
    expect(cache.get(key, at(validFrom.getTime() - 1))).toBeUndefined();
    expect(cache.stats().size).toBe(1);
    expect(cache.get(key, validFrom)).toBe(chain);
  });

  it('evicts the least recently used chain beyond maxEntries', () => {
    const cache = new ChainCache({ maxEntries: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((name) => `key ${name}`);
    cache.set(a, chain);
    cache.set(b, chain);
    expect(cache.get(a, validFrom)).toBe(chain); // a is now more recent than b
    cache.set(c, chain);
    expect(cache.get(b, validFrom)).toBeUndefined();
    expect(cache.get(a, validFrom)).toBe(chain);
    expect(cache.get(c, validFrom)).toBe(chain);
    expect(cache.stats()).toMatchObject({ evictions: 1, size: 2 });
  });

  it('clears', () => {
    const cache = new ChainCache();
    cache.set('k', chain);
    cache.clear();
    expect(cache.get('k', validFrom)).toBeUndefined();
  });

  it('refuses a size below one', () => {
    expect(() => new ChainCache({ maxEntries: 0 })).toThrow(RangeError);
    expect(new ChainCache().maxEntries).toBe(256);
  });
});

describe('chainCacheKey', () => {
  it('is the same for the same certificates, anchors and policy, even reloaded', () => {
    const reloaded = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), 'reloaded');
    expect(chainCacheKey(parts({ anchors: reloaded.certificates }))).toBe(chainCacheKey(parts()));
    // An unfrozen copy of the same set is not remembered by identity but names the same set.
    expect(chainCacheKey(parts({ anchors: [...anchors.certificates] }))).toBe(
      chainCacheKey(parts()),
    );
    expect(chainCacheKey(parts({ policy: { ...DEFAULT_CRYPTO_POLICY } }))).toBe(
      chainCacheKey(parts()),
    );
  });

  it('differs for another trust anchor set', () => {
    const base = chainCacheKey(parts());
    const rogue = parseTrustAnchors(readFileSync(pki.rogueRootPem));
    const both = parseTrustAnchors(
      Buffer.concat([readFileSync(pki.trustAnchorsPem), readFileSync(pki.rogueRootPem)]),
    );
    const theIntermediate = parseTrustAnchors(readFileSync(pki.intermediatePem));
    for (const other of [rogue, both, theIntermediate]) {
      expect(chainCacheKey(parts({ anchors: other.certificates }))).not.toBe(base);
    }
  });

  it('differs for another policy', () => {
    const base = chainCacheKey(parts());
    for (const policy of [
      { ...DEFAULT_CRYPTO_POLICY, minRsaBits: 3072 },
      { ...DEFAULT_CRYPTO_POLICY, allowedDigests: ['sha384' as const] },
      { ...DEFAULT_CRYPTO_POLICY, allowedCurves: ['secp384r1'] },
    ]) {
      expect(chainCacheKey(parts({ policy }))).not.toBe(base);
    }
    expect(chainCacheKey(parts({ signerPolicy: LENIENT_SIGNER_POLICY }))).not.toBe(base);
  });

  it('differs for another signer or other candidate certificates', () => {
    const base = chainCacheKey(parts());
    const ecdsa = info(pki.signers.ecdsa.certPem);
    expect(chainCacheKey(parts({ signer: ecdsa }))).not.toBe(base);
    expect(chainCacheKey(parts({ candidates: [signer] }))).not.toBe(base);
    expect(chainCacheKey(parts({ candidates: [intermediate, signer] }))).not.toBe(base);
    expect(chainCacheKey(parts({ candidates: [signer, intermediate, ecdsa] }))).not.toBe(base);
  });
});

import { createTestPki, SIGNER_EXTENSION_VARIANTS, type TestPki } from '@sup/testing';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ChainCache } from './chain-cache';
import { parseCrl } from './crl';
import { LENIENT_SIGNER_POLICY } from './signer-policy';
import { parseTrustAnchors, type TrustAnchors } from './trust-anchors';
import { DEFAULT_VERIFICATION_POLICY, TrustStore } from './trust-store';

jest.setTimeout(60_000);

let dir: string;
let pki: TestPki;
let anchors: TrustAnchors;
let rogueAnchors: TrustAnchors;
let signature: Buffer;
const content = Buffer.from('update');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-trust-store-'));
  pki = await createTestPki(join(dir, 'pki'));
  anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), 'anchors');
  rogueAnchors = parseTrustAnchors(readFileSync(pki.rogueRootPem), 'rogue');
  signature = await pki.signBuffer(content, 'rsa');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const verdict = (
  store: TrustStore,
  sig = signature,
  body: () => Readable = () => Readable.from([content]),
) =>
  store.verify({ signature: sig, content: body }).then(
    () => 'valid',
    (e: Error & { code?: string }) => e.code ?? e.message,
  );

describe('TrustStore', () => {
  it('verifies with its own policy', async () => {
    const signer = await pki.issueSigner('no-eku', { extensions: SIGNER_EXTENSION_VARIANTS.noEku });
    const sig = await pki.signBuffer(content, signer);
    const material = { anchors, intermediates: [], crls: [] };
    expect(await verdict(new TrustStore(material), sig)).toBe('certificate-wrong-usage');
    const lenient = new TrustStore(material, {
      ...DEFAULT_VERIFICATION_POLICY,
      signer: LENIENT_SIGNER_POLICY,
    });
    expect(await verdict(lenient, sig)).toBe('valid');
  });

  it('applies new anchors to the next verification and forgets the chains of the old ones', async () => {
    const cache = new ChainCache();
    const store = new TrustStore({ anchors, intermediates: [], crls: [] }, undefined, cache);
    expect(await verdict(store)).toBe('valid');
    expect(cache.stats().size).toBe(1);

    const crl = parseCrl(await pki.makeCrl('intermediate'), 'crl');
    expect(store.update({ crls: [{ location: 'crl', crl }] }).version).toBe(2);
    expect(cache.stats().size).toBe(1); // CRLs are checked on every call; chains stay valid

    expect(store.update({ anchors: rogueAnchors }).version).toBe(3);
    expect(cache.stats().size).toBe(0);
    expect(await verdict(store)).toBe('untrusted-chain');
  });

  it('finishes a verification with the trust it started with', async () => {
    const store = new TrustStore({ anchors, intermediates: [], crls: [] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowContent = () =>
      Readable.from(
        (async function* () {
          await gate;
          yield content;
        })(),
      );
    const running = verdict(store, signature, slowContent);
    store.update({ anchors: rogueAnchors });
    release();
    expect(await running).toBe('valid');
    expect(await verdict(store)).toBe('untrusted-chain');
  });
});

import { parseTrustAnchors, TrustStore } from '@sup/integrity';
import { createTestPki, MemoryVersionedStore, type TestPki } from '@sup/testing';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestConfig } from '../config';
import { FeedStates, type FeedState } from '../state/feed-states';
import { IndexRefusal, SignedIndexVerifier } from './signed-index';

jest.setTimeout(120_000);

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signed-index-'));
  pki = await createTestPki(join(dir, 'pki'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const NOW = new Date('2026-03-10T00:00:00Z');
const indexOf = (over: Record<string, unknown> = {}): Buffer =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      feed: 'acme',
      sequence: 7,
      generatedAt: '2026-03-01T00:00:00Z',
      expiresAt: '2026-04-01T00:00:00Z',
      updates: [],
      ...over,
    }),
  );

function verifier(limits: Partial<IngestConfig> = {}) {
  const kv = new MemoryVersionedStore<FeedState>('ingest_feed_states');
  const config = {
    trustAnchors: parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem),
    intermediates: [],
    indexMaxBytes: 1024 * 1024,
    indexSignatureMaxBytes: 64 * 1024,
    ...limits,
  } as unknown as IngestConfig;
  return {
    kv,
    gate: new SignedIndexVerifier(
      config,
      new FeedStates(kv.asStore()),
      new TrustStore({ anchors: config.trustAnchors, intermediates: [], crls: [] }),
    ),
  };
}

async function refusal(promise: Promise<unknown>): Promise<IndexRefusal> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof IndexRefusal))
    throw new Error(`expected an IndexRefusal, got ${String(error)}`);
  return error;
}

describe('SignedIndexVerifier', () => {
  it('accepts a signed, fresh index and returns it with the digest of its bytes', async () => {
    const { gate, kv } = verifier();
    const indexBytes = indexOf();
    const signatureBytes = await pki.signBuffer(indexBytes, 'rsa');
    const trusted = await gate.verify({ indexBytes, signatureBytes }, { now: NOW });
    expect(trusted.index.sequence).toBe(7);
    expect(trusted.digest).toMatch(/^[0-9a-f]{64}$/);
    await gate.accept(trusted);
    expect((await kv.get('acme'))?.value.sequence).toBe(7);
  });

  it('checks the signature before parsing: unsigned junk is refused for its signature', async () => {
    const { gate } = verifier();
    const secret = Buffer.from('root:x:0:0:root:/root:/bin/bash\n');
    const error = await refusal(
      gate.verify({ indexBytes: secret, signatureBytes: Buffer.from('not a cms') }),
    );
    expect(error.reason).toBe('index-signature-invalid');
    expect(error.message).not.toContain('root');
  });

  it('refuses bytes the signature does not cover, and a signer outside the trust anchors', async () => {
    const { gate } = verifier();
    const signed = await pki.signBuffer(indexOf(), 'rsa');
    const other = await refusal(
      gate.verify({ indexBytes: indexOf({ sequence: 8 }), signatureBytes: signed }),
    );
    expect(other.detail).toBe('digest-mismatch');
    const rogue = await pki.signBuffer(indexOf(), 'rogue');
    const untrusted = await refusal(gate.verify({ indexBytes: indexOf(), signatureBytes: rogue }));
    expect(untrusted.detail).toBe('untrusted-chain');
  });

  it('refuses oversized files before verifying anything', async () => {
    const { gate } = verifier({ indexMaxBytes: 100, indexSignatureMaxBytes: 10 });
    const big = await refusal(
      gate.verify({ indexBytes: Buffer.alloc(101), signatureBytes: Buffer.alloc(1) }),
    );
    expect(big.reason).toBe('index-too-large');
    const sig = await refusal(
      gate.verify({ indexBytes: Buffer.alloc(1), signatureBytes: Buffer.alloc(11) }),
    );
    expect(sig.reason).toBe('index-signature-too-large');
  });

  it('refuses a signed index that breaks the schema', async () => {
    const { gate } = verifier();
    const indexBytes = indexOf({ sequence: -1 });
    const signatureBytes = await pki.signBuffer(indexBytes, 'rsa');
    const error = await refusal(gate.verify({ indexBytes, signatureBytes }, { now: NOW }));
    expect(error.reason).toBe('malformed-index');
    expect(error.message).toContain('sequence');
  });

  it('applies freshness and rollback per feed name, unless the index was already accepted', async () => {
    const { gate } = verifier();
    const newer = indexOf({ sequence: 9 });
    await gate.accept(
      await gate.verify(
        { indexBytes: newer, signatureBytes: await pki.signBuffer(newer, 'rsa') },
        { now: NOW },
      ),
    );
    const older = { indexBytes: indexOf(), signatureBytes: await pki.signBuffer(indexOf(), 'rsa') };
    expect((await refusal(gate.verify(older, { now: NOW }))).reason).toBe('index-rollback');
    const late = new Date('2026-05-01T00:00:00Z');
    expect((await refusal(gate.verify(older, { now: late }))).reason).toBe('index-expired');
    const reread = await gate.verify(older, { now: NOW, alreadyAccepted: true });
    expect(reread.index.sequence).toBe(7);
  });
});

import { parseTrustAnchors, TrustStore } from '@sup/integrity';
import {
  buildFeed,
  bundleFilesOf,
  createTestPki,
  MemoryVersionedStore,
  type BundleFileSpec,
  type TestPki,
} from '@sup/testing';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { IngestConfig } from '../config';
import { FeedStates, type FeedState } from '../state/feed-states';
import { SignedIndexVerifier } from '../trust/signed-index';
import { bundleEntries, checkSignatures } from './bundle-entries';
import { receiveBundle, type IntakeLimits } from './bundle-intake';
import type { BundleSource } from './bundle-source';
import { ImportRefusal } from './import-refusal';

jest.setTimeout(300_000);

/** Mutated bundles tried; each is read by the real intake with the real index verifier. */
const RUNS = 2_000;
const LIMITS: IntakeLimits = {
  maxFileBytes: 64 * 1024,
  maxBundleBytes: 256 * 1024,
  indexMaxBytes: 64 * 1024,
  indexSignatureMaxBytes: 16 * 1024,
  signatureMaxBytes: 16 * 1024,
};

let root: string;
let pki: TestPki;
let genuine: BundleFileSpec[];
let verifier: SignedIndexVerifier;
let trust: TrustStore;
/** path → signed SHA-256 of every artifact the genuine index names. */
let signed: Map<string, string>;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bundle-fuzz-'));
  pki = await createTestPki(join(root, 'pki'));
  const feed = await buildFeed(join(root, 'feed'), pki, {
    updates: [
      { kind: 'security', component: 'firewall-rules', version: '26-101', content: 700 },
      { kind: 'security', component: 'anti-malware-pattern', version: '19.1.00', content: 900 },
    ],
  });
  genuine = await bundleFilesOf(feed);
  signed = new Map(
    feed.index.updates.map((u) => {
      const a = u.artifact as { path: string; sha256: string };
      return [a.path, a.sha256];
    }),
  );
  const anchors = parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem);
  const config = {
    indexMaxBytes: LIMITS.indexMaxBytes,
    indexSignatureMaxBytes: LIMITS.indexSignatureMaxBytes,
  } as unknown as IngestConfig;
  trust = new TrustStore({ anchors, intermediates: [], crls: [] });
  verifier = new SignedIndexVerifier(
    config,
    new FeedStates(new MemoryVersionedStore<FeedState>('ingest_feed_states').asStore()),
    trust,
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

type Mutation =
  | { op: 'flip'; file: number; at: number; bit: number }
  | { op: 'truncate'; file: number; keep: number }
  | { op: 'append'; file: number; extra: Uint8Array }
  | { op: 'drop'; file: number }
  | { op: 'duplicate'; file: number }
  | { op: 'swap'; a: number; b: number }
  | { op: 'rename'; file: number; name: string };

const index = fc.nat({ max: 5 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), file: index, at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('truncate' as const), file: index, keep: fc.nat() }),
  fc.record({
    op: fc.constant('append' as const),
    file: index,
    extra: fc.uint8Array({ minLength: 1, maxLength: 70_000 }),
  }),
  fc.record({ op: fc.constant('drop' as const), file: index }),
  fc.record({ op: fc.constant('duplicate' as const), file: index }),
  fc.record({ op: fc.constant('swap' as const), a: index, b: index }),
  fc.record({
    op: fc.constant('rename' as const),
    file: index,
    name: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('../index.json', '/etc/passwd', 'a\\b', './index.json', 'x//y', '%2e%2e/z'),
    ),
  }),
);

function apply(files: BundleFileSpec[], m: Mutation): BundleFileSpec[] {
  const out = files.map((f) => ({ ...f }));
  const at = (i: number): number => i % Math.max(out.length, 1);
  if (out.length === 0) return out;
  switch (m.op) {
    case 'flip': {
      const f = out[at(m.file)];
      if (f.bytes.length === 0) return out;
      const bytes = Buffer.from(f.bytes);
      bytes[m.at % bytes.length] ^= 1 << m.bit;
      out[at(m.file)] = { ...f, bytes };
      return out;
    }
    case 'truncate': {
      const f = out[at(m.file)];
      out[at(m.file)] = { ...f, bytes: f.bytes.subarray(0, m.keep % (f.bytes.length + 1)) };
      return out;
    }
    case 'append': {
      const f = out[at(m.file)];
      out[at(m.file)] = { ...f, bytes: Buffer.concat([f.bytes, Buffer.from(m.extra)]) };
      return out;
    }
    case 'drop':
      out.splice(at(m.file), 1);
      return out;
    case 'duplicate':
      out.push(out[at(m.file)]);
      return out;
    case 'swap': {
      const [a, b] = [at(m.a), at(m.b)];
      [out[a], out[b]] = [out[b], out[a]];
      return out;
    }
    case 'rename':
      out[at(m.file)] = { ...out[at(m.file)], path: m.name };
      return out;
  }
}

/** The files one after the other, as a bundle reader hands them over. */
const source = (files: BundleFileSpec[]): BundleSource =>
  Readable.from(files.map((f) => ({ name: f.path, stream: Readable.from([f.bytes]) })));

describe('bundle intake under mutated bundles', () => {
  it(`never crashes, refuses with a reason, and never accepts bytes other than signed or a signature that does not verify (${RUNS} bundles)`, async () => {
    let accepted = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const files = mutations.reduce(apply, genuine);
        const tempDir = await mkdtemp(join(root, 'upload-'));
        try {
          const bundle = await receiveBundle(source(files), {
            tempDir,
            limits: LIMITS,
            verifyIndex: (f) => verifier.verify(f),
          });
          const entries = bundleEntries(bundle);
          await checkSignatures(entries, (signature, content) =>
            trust.verify({ signature, content }),
          );
          // Accepted: the index is the signed one and every artifact has its signed bytes.
          expect(bundle.verified.digest).toBe(sha256(genuine[0].bytes));
          for (const e of entries) expect(e.artifact.sha256).toBe(signed.get(e.artifact.path));
          accepted += 1;
        } catch (error) {
          if (!(error instanceof ImportRefusal)) throw error;
          codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
        } finally {
          await rm(tempDir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS },
    );
    // Both outcomes occurred, and the refusals named several different rules.
    expect(accepted).toBeGreaterThan(0);
    expect(codes.size).toBeGreaterThan(5);
    expect((await readdir(root)).filter((n) => n.startsWith('upload-'))).toEqual([]);
  });
});

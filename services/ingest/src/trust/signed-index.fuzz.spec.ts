import { FeedEntrySchema, SECURITY_COMPONENTS, SOFTWARE_COMPONENTS } from '@sup/contracts';
import { FeedSource, parseFeedIndex } from '@sup/feed';
import { parseTrustAnchors, TrustStore } from '@sup/integrity';
import { createTestPki, MemoryVersionedStore, type TestPki } from '@sup/testing';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestConfig } from '../config';
import { FeedStates, type FeedState } from '../state/feed-states';
import { IndexRefusal, SignedIndexVerifier } from './signed-index';

/**
 * Structure-aware fuzzing of index.json: a valid index, mutated where it matters (wrong types,
 * huge and negative numbers, NaN-like strings, deep nesting, long strings, path traversal, extra
 * keys, unicode; and at the byte level: truncation, huge literals, duplicate keys, bad UTF-8).
 * Whatever the parser and schema accept is checked against the rules written out by hand below,
 * not against the schema itself.
 */
jest.setTimeout(600_000);

const PARSE_RUNS = 10_000;
const SIGNED_RUNS = 200;
const FOREIGN_SIGNATURE_RUNS = 1_000;
const GiB = 1024 ** 3;

const BASE = {
  schemaVersion: 1,
  feed: 'acme-active-update',
  sequence: 7,
  generatedAt: '2026-03-01T00:00:00Z',
  expiresAt: '2026-04-01T00:00:00Z',
  updates: [
    {
      kind: 'security',
      component: 'firewall-rules',
      version: '26-100',
      artifact: { path: 'security/fw-26-100.bin', size: 1000, sha256: 'a'.repeat(64) },
      signature: { path: 'security/fw-26-100.bin.p7s', format: 'cms-detached-der' },
    },
    {
      kind: 'software',
      component: 'agent',
      platform: 'linux-x86_64',
      version: '20.0.1-12345',
      minManagerVersion: '20.0',
      releasedAt: '2026-02-01T00:00:00Z',
      notesUrl: 'https://vendor.example.com/notes/20.0.1',
      artifact: { path: 'agent/agent-20.0.1.zip', size: 4 * GiB, sha256: 'b'.repeat(64) },
      signature: { path: 'agent/agent-20.0.1.zip.p7s', format: 'cms-detached-der' },
    },
  ],
};

type Json = unknown;
type Path = (string | number)[];

/** Every path into BASE, containers included: where a mutation may land. */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const children = Object.entries(value).flatMap(([key, child]) =>
    pathsOf(child, [...prefix, Array.isArray(value) ? Number(key) : key]),
  );
  return [prefix, ...children];
}
const PATHS = pathsOf(BASE).filter((p) => p.length > 0);

const deepArray = (depth: number): Json => {
  let value: Json = 1;
  for (let i = 0; i < depth; i += 1) value = [value];
  return value;
};

const TRAVERSALS = [
  '../../etc/passwd',
  '/etc/passwd',
  'security/../../x',
  '%2e%2e/x',
  'a/%2E%2e/b',
  './x',
  'a//b',
  'a\\..\\b',
  'C:\\windows',
  'file:///etc/passwd',
  'https://evil.example/x',
  ' x',
  'x ',
  'a\u0000b',
  'a\tb/../c',
  '\u202e/x',
  '',
];
const NASTY_NUMBERS = [
  1e300,
  -1e300,
  -1,
  -0,
  0.5,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 64,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  4 * GiB + 1,
  1e30,
];
const NASTY_STRINGS = ['NaN', 'Infinity', '-Infinity', '1e300', '0x10', ' 1', '1', 'null', 'true'];
const NASTY_DATES = [
  '2026-13-01T00:00:00Z',
  '2026-03-01',
  '9999-12-31T23:59:59Z',
  '2026-03-01T00:00:00+25:00',
  '0000-00-00T00:00:00Z',
];

const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.constantFrom<Json>(...NASTY_NUMBERS, ...NASTY_STRINGS, ...NASTY_DATES, ...TRAVERSALS),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 2_000 }).map(deepArray),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.constantFrom<Json>(null, true, false, [], {}),
);

type Mutation =
  | { op: 'set'; path: Path; value: Json }
  | { op: 'delete'; path: Path }
  | { op: 'add-key'; path: Path; key: string; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    path: fc.constantFrom(...PATHS),
    value: nastyValue,
  }),
  fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    op: fc.constant('add-key' as const),
    path: fc.constantFrom<Path>([], ...PATHS.filter((p) => typeof p[p.length - 1] !== 'number')),
    key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')),
    value: nastyValue,
  }),
);

function applyMutation(doc: Json, mutation: Mutation): void {
  // A copy: constants (the same `{}` every run) must not carry one run's mutations to the next.
  const m =
    'value' in mutation ? { ...mutation, value: structuredClone(mutation.value) } : mutation;
  const parentPath = m.op === 'add-key' ? m.path : m.path.slice(0, -1);
  let parent = doc as Record<string | number, Json>;
  for (const step of parentPath) {
    const next = parent?.[step];
    if (typeof next !== 'object' || next === null) return; // an earlier mutation removed it
    parent = next as Record<string | number, Json>;
  }
  if (m.op === 'add-key') {
    // Keys on objects only: an array given a "constructor" key breaks the mutator's own splice.
    if (Array.isArray(parent)) return;
    const target = parent[m.key as never];
    if (typeof target === 'object' && target !== null) return;
    Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, writable: true });
    return;
  }
  const last = m.path[m.path.length - 1];
  if (m.op === 'delete') {
    if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
    else delete parent[last];
  } else parent[last] = m.value;
}

/** Byte-level mutations of the serialised document: what JSON.stringify could never produce. */
type TextMutation = (text: string, at: number) => string;
const TEXT_MUTATIONS: TextMutation[] = [
  (t, at) => t.slice(0, at % (t.length + 1)),
  (t) => t.replace('"sequence":7', '"sequence":1e999'),
  (t) => t.replace('"size":1000', '"size":-1e400'),
  (t) => t.replace('"size":1000', '"size":123456789012345678901234567890'),
  (t) => t.replace('{"schemaVersion":1', '{"sequence":-1,"schemaVersion":1'),
  (t) => t.replace('"sequence":7', '"sequence":7,"sequence":9007199254740993'),
  (t, at) => t.replace('"size":1000', `"size":${'['.repeat(at)}${']'.repeat(at)}`),
  (t) => `\ufeff${t}`,
  (t, at) => `${t.slice(0, at % t.length)}\u0000${t.slice(at % t.length)}`,
];

const mutatedBytes: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.array(mutation, { minLength: 1, maxLength: 4 }),
    fc.option(fc.tuple(fc.nat(TEXT_MUTATIONS.length - 1), fc.nat(100_000)), { freq: 4 }),
    fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })), { freq: 8 }),
  )
  .map(([mutations, text, byte]) => {
    const doc = structuredClone(BASE) as Json;
    for (const m of mutations) applyMutation(doc, m);
    let serialised = JSON.stringify(doc) ?? 'undefined';
    if (text) serialised = TEXT_MUTATIONS[text[0]](serialised, text[1]);
    const bytes = Buffer.from(serialised);
    // A lone continuation or lead byte somewhere: no longer UTF-8.
    if (byte && bytes.length > 0) bytes[byte[0] % bytes.length] = byte[1];
    return bytes;
  });

const FEED_BASE = FeedSource.parse('https://feeds.example/acme/');
const COMPONENTS = new Set<string>([...SOFTWARE_COMPONENTS, ...SECURITY_COMPONENTS]);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isDate = (v: unknown): boolean => typeof v === 'string' && Number.isFinite(Date.parse(v));

/** A path an accepted entry names must stay inside the feed, whatever its spelling. */
function pathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) return 'length';
  if (path.startsWith('/') || path.includes('\\')) return 'absolute or backslash';
  if (/[\u0000-\u001f\u007f]/.test(path) || path !== path.trim()) return 'control or space';
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return 'scheme';
  const segments = path.split('/').map((s) => s.replace(/%2e/gi, '.'));
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'dot segment';
  if (!FEED_BASE.resolve(path).startsWith(FEED_BASE.baseUrl)) return 'escapes';
  return null;
}

/** What an accepted index (and each entry it accepts) must be, written out without the schema. */
function violations(index: unknown): string[] {
  const found: string[] = [];
  const check = (ok: boolean, what: string) => ok || found.push(what);
  if (!isObject(index)) return ['not an object'];
  const keys = ['schemaVersion', 'feed', 'sequence', 'generatedAt', 'expiresAt', 'updates'];
  check(
    Object.keys(index).every((k) => keys.includes(k)),
    'unknown key',
  );
  check(index.schemaVersion === 1, 'schemaVersion');
  check(typeof index.feed === 'string' && /^[a-z0-9][a-z0-9._-]{0,127}$/.test(index.feed), 'feed');
  check(Number.isSafeInteger(index.sequence) && (index.sequence as number) >= 0, 'sequence');
  check(isDate(index.generatedAt) && isDate(index.expiresAt), 'dates');
  const updates = index.updates;
  if (!Array.isArray(updates) || updates.length > 10_000) return [...found, 'updates'];
  for (const raw of updates) {
    check(isObject(raw), 'entry not an object');
    const entry = FeedEntrySchema.safeParse(raw);
    if (!entry.success) continue;
    const { artifact, signature, component, kind } = entry.data;
    check(kind === 'software' || kind === 'security', 'kind');
    check(COMPONENTS.has(component), 'component');
    check(
      Number.isSafeInteger(artifact.size) && artifact.size >= 0 && artifact.size <= 4 * GiB,
      'size',
    );
    check(/^[0-9a-f]{64}$/.test(artifact.sha256), 'sha256');
    for (const path of [artifact.path, signature.path]) {
      const problem = pathProblem(path);
      check(problem === null, `path: ${problem}`);
    }
  }
  return found;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let dir: string;
let pki: TestPki;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  dir = await mkdtemp(join(tmpdir(), 'index-fuzz-'));
  pki = await createTestPki(join(dir, 'pki'));
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => expect(unhandled).toEqual([]));

function verifier(): SignedIndexVerifier {
  const config = {
    trustAnchors: parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem),
    intermediates: [],
    indexMaxBytes: 8 * 1024 * 1024,
    indexSignatureMaxBytes: 1024 * 1024,
  } as unknown as IngestConfig;
  const states = new FeedStates(new MemoryVersionedStore<FeedState>('fuzz').asStore());
  const trust = new TrustStore({ anchors: config.trustAnchors, intermediates: [], crls: [] });
  return new SignedIndexVerifier(config, states, trust);
}

describe('index.json fuzzing', () => {
  it(`parses ${PARSE_RUNS} mutated documents without a crash and accepts nothing invalid`, () => {
    const tally = { accepted: 0, refused: 0, entriesAccepted: 0 };
    const started = process.hrtime.bigint();
    fc.assert(
      fc.property(mutatedBytes, (bytes) => {
        const result = parseFeedIndex(bytes);
        if (!result.ok) {
          tally.refused += 1;
          expect(result.issues.length).toBeGreaterThan(0);
          return;
        }
        tally.accepted += 1;
        tally.entriesAccepted += result.index.updates.filter(
          (u) => FeedEntrySchema.safeParse(u).success,
        ).length;
        expect(violations(result.index)).toEqual([]);
      }),
      { numRuns: PARSE_RUNS },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`index fuzz: ${PARSE_RUNS} documents in ${ms.toFixed(0)} ms`, tally);
    // Both outcomes must occur, or the mutations would not be exercising the checks.
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  });

  it(`verifies ${SIGNED_RUNS} mutated documents signed at test time: a verdict, never a crash`, async () => {
    const gate = verifier();
    const reasons = new Map<string, number>();
    const started = process.hrtime.bigint();
    await fc.assert(
      fc.asyncProperty(mutatedBytes, async (indexBytes) => {
        const signatureBytes = await pki.signBuffer(indexBytes, 'rsa');
        const now = new Date('2026-03-10T00:00:00Z');
        try {
          const { index } = await gate.verify({ indexBytes, signatureBytes }, { now });
          reasons.set('accepted', (reasons.get('accepted') ?? 0) + 1);
          expect(violations(index)).toEqual([]);
        } catch (error) {
          if (!(error instanceof IndexRefusal)) throw error;
          reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
          // Signed by a trusted signer: only what the bytes say can refuse them.
          expect(error.reason).not.toBe('index-signature-invalid');
        }
      }),
      { numRuns: SIGNED_RUNS },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`signed index fuzz: ${SIGNED_RUNS} in ${ms.toFixed(0)} ms`, reasons);
    expect(reasons.get('malformed-index')).toBeGreaterThan(0);
  });

  it(`refuses ${FOREIGN_SIGNATURE_RUNS} mutated documents under the original's signature`, async () => {
    const gate = verifier();
    const original = Buffer.from(JSON.stringify(BASE));
    const signatureBytes = await pki.signBuffer(original, 'rsa');
    await fc.assert(
      fc.asyncProperty(mutatedBytes, async (indexBytes) => {
        fc.pre(!indexBytes.equals(original));
        const error: unknown = await gate.verify({ indexBytes, signatureBytes }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(IndexRefusal);
        expect((error as IndexRefusal).reason).toBe('index-signature-invalid');
      }),
      { numRuns: FOREIGN_SIGNATURE_RUNS },
    );
  });
});

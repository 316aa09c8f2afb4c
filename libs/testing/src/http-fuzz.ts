import type { INestApplication } from '@nestjs/common';
import { Authenticator, sha256Hex } from '@sup/auth';
import { ROLES, type Role } from '@sup/contracts';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { AnyZodObject } from 'zod';

/** A service's real HTTP stack (guards, body parser, error filter) around some of its controllers. */
export interface ApiUnderTest {
  app: INestApplication;
  base: string;
  tokens: ReadonlyMap<Role, string>;
  close(): Promise<void>;
}

/**
 * Starts an app on a loopback port with one token per role. `build` makes it with the shared
 * HTTP edge (service-kit's `createHttpApp` and `HttpEdgeModule`, given this authenticator), so
 * it is the stack `runService` gives a service. What sits behind the controllers is the
 * caller's: typically a stand-in that records what reached it, so a test can prove refused
 * requests never do.
 */
export async function startApiUnderTest(
  build: (edge: { authenticator: Authenticator; logger: Logger }) => Promise<INestApplication>,
): Promise<ApiUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'sup-api-'));
  const tokens = new Map(ROLES.map((r) => [r, `fz_${r}_${sha256Hex(dir + r).slice(0, 24)}`]));
  const tokensFile = join(dir, 'tokens.json');
  const entries = [...tokens].map(([role, t]) => ({
    name: `t-${role}`,
    role,
    sha256: sha256Hex(t),
  }));
  writeFileSync(tokensFile, JSON.stringify({ tokens: entries }));
  const logger = pino({ level: 'silent' });
  const authenticator = Authenticator.create({ tokensFile, allowNoAuth: false }, logger);
  const app = await build({ authenticator, logger });
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  return { app, base: await app.getUrl(), tokens, close: () => app.close() };
}

/** Who calls: a role's token, none, or something that is not a valid token. */
export type FuzzCaller = { role: Role } | { header: string } | 'anonymous';
export const callerArb: fc.Arbitrary<FuzzCaller> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROLES).map((role) => ({ role })) },
  { weight: 1, arbitrary: fc.constant('anonymous' as const) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.string({ maxLength: 80 }).map((s) => `Bearer ${s}`),
        fc.string({ maxLength: 80 }),
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Basic YWRtaW46YWRtaW4=',
          `Bearer ${'a'.repeat(9000)}`,
        ),
      )
      // fetch refuses header values with control characters or non-Latin-1 text.
      .map((h) => h.replace(/[^\x20-\x7e]/g, 'x'))
      .map((header) => ({ header })),
  },
);

export const authorization = (api: ApiUnderTest, caller: FuzzCaller): Record<string, string> =>
  caller === 'anonymous'
    ? {}
    : 'role' in caller
      ? { authorization: `Bearer ${api.tokens.get(caller.role)}` }
      : { authorization: caller.header };

export const contentTypeArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/JSON',
      'application/json; charset=latin1',
      'application/vnd.api+json',
      'application/zip',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')) },
);

/** Flips, cuts and splices a text: what a broken or hostile client sends instead of it. */
const mutated = (base: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .tuple(
      base,
      fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.string({ maxLength: 4 })), { maxLength: 4 }),
    )
    .map(([text, edits]) =>
      edits.reduce((t, [at, kind, insert]) => {
        const i = t.length === 0 ? 0 : at % t.length;
        if (kind === 0) return t.slice(0, i); // truncated
        if (kind === 1) return t.slice(0, i) + insert + t.slice(i); // inserted
        if (kind === 2) return t.slice(0, i) + t.slice(i + 1); // dropped a character
        return (
          t.slice(0, i) + String.fromCharCode((t.charCodeAt(i) ^ 0x20) & 0xffff) + t.slice(i + 1)
        );
      }, text),
    );

const urlish = fc.oneof(
  fc.webUrl(),
  fc.constantFrom('file:///etc/passwd', 'http://127.0.0.1:22/', 'javascript:alert(1)', '', ' '),
  fc.string({ maxLength: 100 }),
  fc.string({ minLength: 2040, maxLength: 2100 }),
);

/** Request bodies: JSON of every shape, near-valid sync requests, mutations of them, and non-JSON. */
export const jsonBodyArb: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        url: fc.oneof(urlish, fc.jsonValue({ maxDepth: 2 })),
        extra: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  mutated(urlish.map((url) => JSON.stringify({ url }))),
  fc.constantFrom(
    '{"__proto__": {"url": "file:///etc/passwd"}}',
    '{"constructor": {"prototype": {"admin": true}}}',
    '{"url": "a", "url": "b"}',
    `{"url": "${'a'.repeat(70_000)}"}`,
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    '\uFEFF{}',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

const queryValue = fc.oneof(
  fc.nat(2_000_000).map(String),
  fc.integer().map(String),
  fc.constantFrom(
    '1e300',
    '-1',
    '1e9',
    '0x10',
    ' 5',
    '5.5',
    'NaN',
    'Infinity',
    '',
    '00000000000000000001',
    '%',
    '%E0%A4%A',
    '%00',
  ),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom(
    'security',
    'software',
    'published',
    'rejected',
    'raised',
    'resolved',
    'imported',
  ),
);

/** Query strings over the given parameter names (plus unknown ones), repeated, nested or broken. */
export const queryStringArb = (names: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .array(
        fc.tuple(
          fc.oneof(
            { weight: 5, arbitrary: fc.constantFrom(...names) },
            { weight: 1, arbitrary: fc.constantFrom('limit[]', 'offset[a]', '__proto__', 'x', '') },
          ),
          queryValue,
        ),
        { maxLength: 5 },
      )
      .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    mutated(fc.constant(`${names.map((n) => `${n}=1`).join('&')}`)).map((q) =>
      // Only what a URL can carry: the rest would be a client-side error, not a request.
      q
        .replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c).replace(/%/g, '%25'))
        .replace(/#/g, '%23'),
    ),
  );

/** Unhandled promise rejections while a test runs (the process would die of them in production). */
export function watchUnhandledRejections(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onRejection = (reason: unknown) => errors.push(reason);
  process.on('unhandledRejection', onRejection);
  return { errors, stop: () => process.off('unhandledRejection', onRejection) };
}

/**
 * The property of a listing route (`GET <path>?<query>`) under fuzzed queries and callers: never
 * a 5xx; a 200 only when exactly one query reached the service (`reached`), one the contract
 * (`schema`) accepts unchanged, with the page size echoed; nothing reaches it otherwise.
 */
export function listingQueryProperty(options: {
  api: ApiUnderTest;
  path: string;
  schema: AnyZodObject;
  reached: unknown[];
  statuses: Set<number>;
}): fc.IAsyncProperty<[FuzzCaller, string]> {
  const { api, path, schema, reached, statuses } = options;
  const names = Object.keys(schema.shape as Record<string, unknown>);
  return fc.asyncProperty(callerArb, queryStringArb(names), async (caller, query) => {
    const before = reached.length;
    const res = await fetch(`${api.base}${path}?${query}`, { headers: authorization(api, caller) });
    const body = (await res.json()) as { limit?: unknown };
    statuses.add(res.status);
    assert.ok(res.status < 500, `${query}: ${res.status}`);
    if (res.status !== 200) {
      assert.equal(
        reached.length,
        before,
        `${query}: refused (${res.status}) but reached the service`,
      );
      return;
    }
    assert.equal(reached.length, before + 1);
    const q = reached[before] as { limit?: unknown };
    assert.deepEqual(schema.parse(q), q, `${query}: the service got a query outside the contract`);
    assert.equal(body.limit, q.limit);
  });
}

import { SyncRequestSchema, type Actor } from '@sup/contracts';
import { createHttpApp, HttpEdgeModule, SERVICE_CONFIG } from '@sup/service-kit';
import {
  authorization,
  callerArb,
  contentTypeArb,
  jsonBodyArb,
  startApiUnderTest,
  watchUnhandledRejections,
  type ApiUnderTest,
} from '@sup/testing';
import fc from 'fast-check';
import { FeedsController } from './feeds.controller';
import { SyncRequests } from './sync-requests.service';

jest.setTimeout(300_000);

const FEED_URL = 'https://vendor.example.test/feed/';

/**
 * Mutated bodies, media types and tokens against the real HTTP stack of `POST /v1/feeds/sync`:
 * never a 5xx, and a sync is requested only for an operator's valid JSON request.
 */
describe('POST /v1/feeds/sync under fuzzing', () => {
  const reached: { url: string; actor: Actor }[] = [];
  // Records what reached the service: the controller's whole contract with the work behind it.
  const syncs = {
    request: (url: string, actor: Actor) => {
      reached.push({ url, actor });
      return Promise.resolve(`sync_${'0'.repeat(24)}`);
    },
    status: () => Promise.resolve(undefined),
  };
  let api: ApiUnderTest;
  const statuses = new Set<number>();
  const rejections = watchUnhandledRejections();

  beforeAll(async () => {
    api = await startApiUnderTest(({ authenticator, logger }) =>
      createHttpApp(
        {
          module: class FeedsApi {},
          imports: [HttpEdgeModule.forRoot(authenticator)],
          controllers: [FeedsController],
          providers: [
            { provide: SyncRequests, useValue: syncs },
            { provide: SERVICE_CONFIG, useValue: { feedUrl: FEED_URL } },
          ],
        },
        { authenticator, jsonLimitBytes: 64 * 1024, logger },
      ),
    );
  });
  afterAll(async () => {
    rejections.stop();
    await api?.close();
  });

  it('answers 10,000 mutated requests with 2xx/4xx only, requesting syncs only for valid ones', async () => {
    await fc.assert(
      fc.asyncProperty(callerArb, contentTypeArb, jsonBodyArb, async (caller, type, body) => {
        const before = reached.length;
        const res = await fetch(`${api.base}/v1/feeds/sync`, {
          method: 'POST',
          headers: {
            ...authorization(api, caller),
            ...(type === undefined ? {} : { 'content-type': type }),
          },
          // Bytes, not a string: fetch would label a string body text/plain on its own.
          body: Buffer.from(body),
        });
        await res.arrayBuffer();
        statuses.add(res.status);
        expect(res.status).toBeLessThan(500);
        const operator =
          typeof caller === 'object' &&
          'role' in caller &&
          ['operator', 'admin'].includes(caller.role);
        if (caller === 'anonymous' || 'header' in caller) expect(res.status).toBe(401);
        else if (!operator) expect(res.status).toBe(403);
        if (res.status !== 202) {
          expect(reached.length).toBe(before);
          return;
        }
        // Accepted: it was an operator's JSON body (or none) that the contract allows, as sent.
        expect(reached.length).toBe(before + 1);
        expect(operator).toBe(true);
        // The parser ignores a leading byte-order mark, as RFC 8259 lets it.
        const text = body.replace(/^\uFEFF/, '');
        const sent: unknown = text === '' ? {} : JSON.parse(text);
        const parsed = SyncRequestSchema.parse(sent);
        expect(reached[before]).toEqual({
          url: parsed.url ?? FEED_URL,
          actor: expect.objectContaining({
            type: 'token',
            role: (caller as { role: string }).role,
          }),
        });
      }),
      { numRuns: 10_000 },
    );
    expect(rejections.errors).toEqual([]);
    // Every answer was reached, so no branch of the edge went untested.
    expect([...statuses].sort()).toEqual([202, 400, 401, 403, 413, 415]);
  });

  it('answers 1,000 mutated sync ids without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(callerArb, fc.string({ maxLength: 300 }), async (caller, id) => {
        const res = await fetch(`${api.base}/v1/feeds/syncs/${encodeURIComponent(id)}`, {
          headers: authorization(api, caller),
        });
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 1_000 },
    );
    expect(rejections.errors).toEqual([]);
  });
});

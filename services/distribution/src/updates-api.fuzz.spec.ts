import { NotFoundException } from '@nestjs/common';
import { ListUpdatesQuerySchema, UpdateIdSchema } from '@sup/contracts';
import { createHttpApp, HttpEdgeModule } from '@sup/service-kit';
import {
  authorization,
  callerArb,
  listingQueryProperty,
  startApiUnderTest,
  watchUnhandledRejections,
  type ApiUnderTest,
} from '@sup/testing';
import fc from 'fast-check';
import { RelayDirectory } from './relays/relay-directory';
import { UpdateViewService } from './update-view.service';
import { UpdatesController } from './updates.controller';

jest.setTimeout(300_000);

/** Mutated query strings and ids against the real HTTP stack of `GET /v1/updates`. */
describe('GET /v1/updates under fuzzing', () => {
  const reached: unknown[] = [];
  const reachedIds: unknown[] = [];
  // Records what reached the view: a query or id the contract allows, or the test fails.
  const view = {
    list: (q: unknown) => {
      reached.push(q);
      return Promise.resolve({ items: [], total: 0 });
    },
    get: (id: unknown) => {
      reachedIds.push(id);
      return Promise.reject(new NotFoundException('no such update'));
    },
  };
  let api: ApiUnderTest;
  const rejections = watchUnhandledRejections();

  beforeAll(async () => {
    api = await startApiUnderTest(({ authenticator, logger }) =>
      createHttpApp(
        {
          module: class UpdatesApi {},
          imports: [HttpEdgeModule.forRoot(authenticator)],
          controllers: [UpdatesController],
          providers: [
            { provide: UpdateViewService, useValue: view },
            // Reached only for a published update, which this view never returns.
            { provide: RelayDirectory, useValue: { relayStates: () => Promise.resolve([]) } },
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

  it('answers 5,000 mutated query strings with 200 or 4xx, passing on only valid queries', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      listingQueryProperty({
        api,
        path: '/v1/updates',
        schema: ListUpdatesQuerySchema,
        reached,
        statuses,
      }),
      { numRuns: 5_000 },
    );
    expect(rejections.errors).toEqual([]);
    expect([...statuses].sort()).toEqual([200, 400, 401, 403]);
  });

  // Ids of the right shape (some reach the view), near misses and anything at all.
  const idArb = fc.oneof(
    fc.stringMatching(/^upd_[0-9a-f]{24}$/),
    fc.stringMatching(/^upd_[0-9a-fA-Z]{23,25}$/),
    fc.string({ maxLength: 200 }),
  );

  it('answers 1,000 mutated ids without a 5xx, passing on only valid ids', async () => {
    await fc.assert(
      fc.asyncProperty(callerArb, idArb, async (caller, id) => {
        const before = reachedIds.length;
        const res = await fetch(`${api.base}/v1/updates/${encodeURIComponent(id)}`, {
          headers: authorization(api, caller),
        });
        await res.arrayBuffer();
        expect(res.status).toBeLessThan(500);
        for (const got of reachedIds.slice(before))
          expect(UpdateIdSchema.safeParse(got).success).toBe(true);
      }),
      { numRuns: 1_000 },
    );
    expect(rejections.errors).toEqual([]);
    expect(reachedIds.length).toBeGreaterThan(0);
  });
});

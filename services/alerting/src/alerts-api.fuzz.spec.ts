import { ListAlertsQuerySchema } from '@sup/contracts';
import { createHttpApp, HttpEdgeModule } from '@sup/service-kit';
import {
  listingQueryProperty,
  startApiUnderTest,
  watchUnhandledRejections,
  type ApiUnderTest,
} from '@sup/testing';
import fc from 'fast-check';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';

jest.setTimeout(300_000);

/** Mutated query strings against the real HTTP stack of `GET /v1/alerts`. */
describe('GET /v1/alerts under fuzzing', () => {
  const reached: unknown[] = [];
  // Records what reached the service: a query the contract allows, or the test fails.
  const alerts = {
    list: (q: unknown) => {
      reached.push(q);
      return Promise.resolve({ items: [], total: 0 });
    },
  };
  let api: ApiUnderTest;
  const rejections = watchUnhandledRejections();

  beforeAll(async () => {
    api = await startApiUnderTest(({ authenticator, logger }) =>
      createHttpApp(
        {
          module: class AlertsApi {},
          imports: [HttpEdgeModule.forRoot(authenticator)],
          controllers: [AlertsController],
          providers: [{ provide: AlertsService, useValue: alerts }],
        },
        { authenticator, jsonLimitBytes: 64 * 1024, logger },
      ),
    );
  });
  afterAll(async () => {
    rejections.stop();
    await api?.close();
  });

  it('answers 3,000 mutated query strings with 200 or 4xx, passing on only valid queries', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      listingQueryProperty({
        api,
        path: '/v1/alerts',
        schema: ListAlertsQuerySchema,
        reached,
        statuses,
      }),
      { numRuns: 3_000 },
    );
    expect(rejections.errors).toEqual([]);
    expect([...statuses].sort()).toEqual([200, 400, 401, 403]);
  });
});

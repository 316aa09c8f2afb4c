import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CurrentActor, Public, RouteCatalog, Roles } from '@sup/auth';
import type { Actor, Role } from '@sup/contracts';
import { startApiUnderTest, type ApiUnderTest } from '@sup/testing';
import { request } from 'node:http';
import { AcceptsBody, createHttpApp, HttpEdgeModule } from './http-input';

/** What reached the handlers, to prove that refused requests never do. */
const reached: { route: string; actor?: Actor; body?: unknown }[] = [];

@Controller('v1/things')
class ThingsController {
  @Get()
  @Roles('viewer')
  list(@Query() query: unknown) {
    reached.push({ route: 'list', body: query });
    return { items: [] };
  }

  @Post()
  @HttpCode(202)
  @Roles('operator')
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    reached.push({ route: 'create', actor, body });
    return { ok: true };
  }

  @Post('admin')
  @Roles('admin')
  admin() {
    reached.push({ route: 'admin' });
    return {};
  }

  @Post('report')
  @Roles('agent')
  report() {
    reached.push({ route: 'report' });
    return {};
  }

  @Post('upload')
  @Roles('operator')
  @AcceptsBody('application/zip')
  upload() {
    reached.push({ route: 'upload' });
    return {};
  }

  @Get('forgotten')
  forgotten() {
    reached.push({ route: 'forgotten' });
    return {};
  }
}

@Controller('healthz')
@Public()
class ProbeController {
  @Get('live')
  live() {
    return { status: 'ok' };
  }
}

describe('the shared HTTP edge: tokens, roles, body types and limits', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest(({ authenticator, logger }) =>
      createHttpApp(
        {
          module: class TestModule {},
          imports: [HttpEdgeModule.forRoot(authenticator)],
          controllers: [ThingsController, ProbeController],
        },
        { authenticator, jsonLimitBytes: 1024, logger },
      ),
    );
  });
  afterAll(() => api?.close());
  beforeEach(() => {
    reached.length = 0;
  });

  const call = (
    method: string,
    path: string,
    opts: { as?: string; body?: string; type?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    const token = opts.as && (api.tokens.get(opts.as as Role) ?? opts.as);
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.type) headers['content-type'] = opts.type;
    return fetch(`${api.base}${path}`, { method, headers, body: opts.body });
  };

  it('answers the probes without a token', async () => {
    expect((await call('GET', '/healthz/live')).status).toBe(200);
  });

  it('refuses a missing or unknown token with 401 and a Bearer challenge', async () => {
    const none = await call('GET', '/v1/things');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="sup"');
    expect(await none.json()).toMatchObject({ statusCode: 401, error: 'UNAUTHORIZED' });
    const bad = await call('GET', '/v1/things', { as: 'not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const garbled = await fetch(`${api.base}/v1/things`, {
      headers: { authorization: 'Basic Zm9v' },
    });
    expect(garbled.status).toBe(401);
    // Unknown paths are closed too: a caller without a token learns nothing about the routes.
    expect((await call('GET', '/v1/nothing-here')).status).toBe(401);
    expect(reached).toEqual([]);
  });

  it('orders human roles and names the role needed', async () => {
    const status = async (path: string, as: Role) =>
      (await call('POST', path, { as, body: '{}', type: 'application/json' })).status;
    expect(await status('/v1/things', 'viewer')).toBe(403);
    expect(await status('/v1/things', 'operator')).toBe(202);
    expect(await status('/v1/things', 'admin')).toBe(202);
    expect(await status('/v1/things/admin', 'operator')).toBe(403);
    expect(await status('/v1/things/admin', 'admin')).toBe(201);
    const refused = await call('POST', '/v1/things', {
      as: 'viewer',
      body: '{}',
      type: 'application/json',
    });
    const body = (await refused.json()) as { message: string; details: string[] };
    expect(body.message).toContain('operator or higher');
    expect(body.details).toEqual(['required role: operator or higher']);
  });

  it('keeps machine roles out of human routes and humans out of machine routes', async () => {
    for (const machine of ['agent', 'relay'] as const) {
      expect((await call('GET', '/v1/things', { as: machine })).status).toBe(403);
    }
    expect((await call('POST', '/v1/things/report', { as: 'agent' })).status).toBe(201);
    expect((await call('POST', '/v1/things/report', { as: 'relay' })).status).toBe(403);
    expect((await call('POST', '/v1/things/report', { as: 'admin' })).status).toBe(403);
  });

  it('refuses a route that names no role to everyone, admin included', async () => {
    const res = await call('GET', '/v1/things/forgotten', { as: 'admin' });
    expect(res.status).toBe(403);
    expect(reached).toEqual([]);
  });

  it('hands the caller to the handler', async () => {
    await call('POST', '/v1/things', { as: 'operator', body: '{"a":1}', type: 'application/json' });
    expect(reached).toEqual([
      {
        route: 'create',
        actor: { type: 'token', name: 't-operator', role: 'operator' },
        body: { a: 1 },
      },
    ]);
  });

  it('takes only JSON on JSON routes (415), whatever a cross-site form would send', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/zip',
    ]) {
      const res = await call('POST', '/v1/things', { as: 'operator', body: 'url=x', type });
      expect(res.status).toBe(415);
    }
    // An empty form post still says what it is: refused as well.
    expect(
      (await call('POST', '/v1/things', { as: 'operator', body: '', type: 'text/plain' })).status,
    ).toBe(415);
    expect(reached).toEqual([]);
    // A route that declares another body type takes it, and JSON is then the wrong one.
    expect(
      (
        await call('POST', '/v1/things/upload', {
          as: 'operator',
          body: 'PK',
          type: 'application/zip',
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/v1/things/upload', {
          as: 'operator',
          body: '{}',
          type: 'application/json',
        })
      ).status,
    ).toBe(415);
  });

  it('answers 413 beyond the body limit and 400 for broken JSON, never 500', async () => {
    const big = JSON.stringify({ url: 'x'.repeat(2048) });
    const res = await call('POST', '/v1/things', {
      as: 'operator',
      body: big,
      type: 'application/json',
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      statusCode: 413,
      message: expect.stringContaining('1024 bytes'),
    });
    for (const body of ['{"a":', 'null', '"str"', '\u0000']) {
      expect(
        (await call('POST', '/v1/things', { as: 'operator', body, type: 'application/json' }))
          .status,
      ).toBe(400);
    }
    const latin = await call('POST', '/v1/things', {
      as: 'operator',
      body: '{}',
      type: 'application/json; charset=latin1',
    });
    expect(latin.status).toBe(415);
    expect(reached).toEqual([]);
  });

  it('checks the token before reading the body', async () => {
    const big = JSON.stringify({ url: 'x'.repeat(4096) });
    expect((await call('POST', '/v1/things', { body: big, type: 'application/json' })).status).toBe(
      401,
    );
    expect((await call('POST', '/v1/things', { body: 'x', type: 'text/plain' })).status).toBe(401);
  });

  it('lets no path that starts like a probe reach a protected route without a token', async () => {
    // Sent as written (fetch would resolve the dot segments): the raw request line is the attack.
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(api.base);
        request({ hostname, port, path }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    for (const path of [
      '/healthz/../v1/things',
      '/healthz/%2e%2e/v1/things',
      '/healthz//v1/things',
    ]) {
      const status = await raw(path);
      expect([path, status === 401 || status === 404]).toEqual([path, true]);
    }
    expect(reached).toEqual([]);
  });

  it('lists every route with who may call it (what start-up checks)', () => {
    const routes = api.app.get(RouteCatalog).routes();
    expect(routes).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/v1/things', public: false, roles: ['viewer'] },
        { method: 'POST', path: '/v1/things/report', public: false, roles: ['agent'] },
        { method: 'GET', path: '/v1/things/forgotten', public: false },
        { method: 'GET', path: '/healthz/live', public: true },
      ]),
    );
    expect(routes).toHaveLength(7);
  });
});

import { BaseEnvSchema, ConfigError, loadStreamSettings, parseEnv, toBaseConfig } from './config';

describe('service configuration', () => {
  it('applies defaults and derives per-service database names', () => {
    const config = toBaseConfig('checksum', parseEnv('checksum', BaseEnvSchema, {}));
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      mongoDb: 'sup-checksum',
      artifactDb: 'sup-artifacts',
      httpPort: 8080,
      artifactStore: { driver: 'fs' },
      jetstream: { maxDeliver: 5, backoffMs: [1000, 5000, 15000, 30000] },
    });
  });

  it('prefers HTTP_PORT over API_PORT and treats empty strings as unset', () => {
    const env = { API_PORT: '9000', HTTP_PORT: '9001', NATS_URL: '' };
    const config = toBaseConfig('ingest', parseEnv('ingest', BaseEnvSchema, env));
    expect(config.httpPort).toBe(9001);
    expect(config.natsUrl).toBe('nats://127.0.0.1:4222');
  });

  it('lists every bad variable in one readable error', () => {
    const env = {
      NATS_URL: 'http://wrong',
      API_PORT: '70000',
      JS_BACKOFF_MS: '1s,2s',
      ARTIFACT_STORE: 's3',
    };
    let error: unknown;
    try {
      parseEnv('ingest', BaseEnvSchema, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['NATS_URL', 'API_PORT', 'JS_BACKOFF_MS', 'ARTIFACT_STORE']) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/^ingest: invalid configuration/);
  });

  it('takes the service’s NATS user from NATS_USER/NATS_PASSWORD or NATS_CREDS, none by default', () => {
    const load = (env: Record<string, string>) =>
      toBaseConfig('checksum', parseEnv('checksum', BaseEnvSchema, env)).natsAuth;
    expect(load({})).toBeUndefined();
    expect(load({ NATS_USER: 'checksum', NATS_PASSWORD: 'pw' })).toEqual({
      user: 'checksum',
      password: 'pw',
    });
    expect(() => load({ NATS_USER: 'checksum', NATS_CREDS: '/x.creds' })).toThrow(ConfigError);
    expect(() => load({ NATS_PASSWORD: 'pw' })).toThrow(/NATS_PASSWORD is set without NATS_USER/);
    expect(() => load({ NATS_CREDS: '/nonexistent/x.creds' })).toThrow(
      /NATS_CREDS: cannot read \/nonexistent\/x\.creds/,
    );
  });

  it('reads the stream settings alone, as npm start converges them as the NATS admin', () => {
    expect(
      loadStreamSettings({ JS_UPDATES_MAX_AGE_H: '1', JS_DUPLICATE_WINDOW_MS: '60000' }),
    ).toMatchObject({
      replicas: 1,
      duplicateWindowMs: 60_000,
      limits: { UPDATES: { maxAgeMs: 3_600_000 } },
    });
    expect(() =>
      loadStreamSettings({ JS_UPDATES_MAX_AGE_H: '1', JS_DUPLICATE_WINDOW_MS: '7200000' }),
    ).toThrow(/JS_DUPLICATE_WINDOW_MS/);
  });
});

import { ConfigError } from '@sup/service-kit';
import { createTestPki, type TestPki } from '@sup/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-relay-config-'));
  pki = await createTestPki(dir);
}, 90_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const required = (): Record<string, string> => ({
  RELAY_ID: 'site-a',
  RELAY_GROUP: 'branch-1',
  TRUST_ANCHORS: pki.trustAnchorsPem,
  CONTROL_PLANE_URL: 'http://127.0.0.1:8080/v1/',
  RELAY_TOKEN: 'sup_relay_0123456789abcdef',
});

describe('relay configuration', () => {
  it('has defaults for everything but its identity, trust and control plane', () => {
    const config = loadConfig(required());
    expect(config).toMatchObject({
      relayId: 'site-a',
      configuredGroup: 'branch-1',
      controlPlaneUrl: 'http://127.0.0.1:8080/v1',
      httpPort: 8090,
      publicUrl: 'http://127.0.0.1:8090/v1',
      cacheMaxBytes: 10 * 1024 ** 3,
      reportIntervalMs: 60_000,
      version: '0.1.0',
    });
    expect(config.trustAnchors).toBeDefined();
  });

  it('takes the public URL, port, cache bound and NATS user', () => {
    const config = loadConfig({
      ...required(),
      HTTP_PORT: '9001',
      RELAY_PUBLIC_URL: 'https://relay-a.example/v1/',
      RELAY_CACHE_MAX_BYTES: String(64 * 1024 ** 2),
      NATS_USER: 'relay-site-a',
      NATS_PASSWORD: 'secret',
    });
    expect(config.publicUrl).toBe('https://relay-a.example/v1');
    expect(config.httpPort).toBe(9001);
    expect(config.cacheMaxBytes).toBe(64 * 1024 ** 2);
    expect(config.natsAuth).toBeDefined();
  });

  it.each([
    [{ RELAY_ID: 'a.b' }, /RELAY_ID/],
    [{ RELAY_GROUP: '' }, /RELAY_GROUP/],
    [{ CONTROL_PLANE_URL: 'ftp://x/v1' }, /CONTROL_PLANE_URL/],
    [{ RELAY_TOKEN: 'short' }, /RELAY_TOKEN/],
    [{ RELAY_CACHE_MAX_BYTES: '10' }, /RELAY_CACHE_MAX_BYTES/],
    [{ TRUST_ANCHORS: '/nonexistent.pem' }, /nonexistent/],
    [{ NATS_URL: 'http://127.0.0.1:4222' }, /NATS_URL/],
  ])('refuses %j at start, naming the variable', (env, message) => {
    const load = () => loadConfig({ ...required(), ...env });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});

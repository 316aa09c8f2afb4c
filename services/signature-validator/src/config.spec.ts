import { ConfigError } from '@sup/service-kit';
import { createTestPki, type TestPki } from '@sup/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';

let dir: string;
let pki: TestPki;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-sigval-config-'));
  pki = await createTestPki(dir);
}, 90_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>) =>
  loadConfig({ TRUST_ANCHORS: pki.trustAnchorsPem, ...env });

describe('signature-validator manager settings', () => {
  it('defaults to a self-hosted manager of the documented version', () => {
    expect(load({}).manager).toEqual({ version: '20.0.0', mode: 'self-hosted' });
  });

  it('takes MANAGER_VERSION and MANAGER_MODE', () => {
    expect(load({ MANAGER_VERSION: '20.0.877-1', MANAGER_MODE: 'hosted' }).manager).toEqual({
      version: '20.0.877-1',
      mode: 'hosted',
    });
  });

  it.each([
    [{ MANAGER_VERSION: 'latest' }, /MANAGER_VERSION.*not a valid manager version/],
    [{ MANAGER_VERSION: '20' }, /MANAGER_VERSION.*not a valid manager version/],
    [{ MANAGER_MODE: 'cloud' }, /MANAGER_MODE/],
  ])('refuses %j at start, naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });
});

import { NATS_SERVICES, natsPermissions } from '@sup/contracts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNatsAuth, natsAuthorizationConfig } from './nats-auth';
import { natsServerBinary } from './nats-server';

const freshDir = (): string => join(mkdtempSync(join(tmpdir(), 'nats-auth-spec-')), 'auth');
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('ensureNatsAuth', () => {
  it('makes a private directory with a password per user and a config nats-server accepts', () => {
    const dir = freshDir();
    const auth = ensureNatsAuth(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(auth.configFile)).toBe(0o600);
    expect(mode(auth.credentialsFile)).toBe(0o600);
    expect(Object.keys(auth.credentials).sort()).toEqual(['admin', ...NATS_SERVICES].sort());
    const passwords = Object.values(auth.credentials).map((c) => c.password);
    expect(new Set(passwords).size).toBe(passwords.length);
    for (const p of passwords) expect(p.length).toBeGreaterThanOrEqual(32);
    // `-t` parses the configuration (quoting of `$JS.API…`, nesting) and exits.
    execFileSync(natsServerBinary(), ['-c', auth.configFile, '-t'], { stdio: 'pipe' });
  });

  it('keeps the passwords across restarts and gives a user missing from the file a new one', () => {
    const dir = freshDir();
    const first = ensureNatsAuth(dir);
    const stored = JSON.parse(readFileSync(first.credentialsFile, 'utf8')) as {
      users: Record<string, unknown>;
    };
    delete stored.users.checksum;
    writeFileSync(first.credentialsFile, JSON.stringify(stored), { mode: 0o644 });

    const second = ensureNatsAuth(dir);
    expect(second.credentials.ingest).toEqual(first.credentials.ingest);
    expect(second.credentials.admin).toEqual(first.credentials.admin);
    expect(second.credentials.checksum.password).not.toBe(first.credentials.checksum.password);
    expect(mode(second.credentialsFile)).toBe(0o600);
  });

  it('writes every grant of the permission table, quoted', () => {
    const { credentials } = ensureNatsAuth(freshDir());
    const config = natsAuthorizationConfig(credentials);
    const checksum = natsPermissions('checksum');
    for (const subject of [...checksum.publish, ...checksum.subscribe])
      expect(config).toContain(JSON.stringify(subject));
    expect(config).toContain(`password: ${JSON.stringify(credentials.checksum.password)}`);
    expect(config).toMatch(/user: "admin"[\s\S]*publish: \{ allow: \[">"\] \}/);
  });
});

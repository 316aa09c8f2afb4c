import { NATS_SERVICES, natsPermissions, relayNatsPermissions } from '@sup/contracts';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNatsAuth, natsAuthorizationConfig } from './nats-auth';
import { natsServerBinary, startNatsServer } from './nats-server';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

const freshDir = (): string => join(mkdtempSync(join(tmpdir(), 'nats-auth-spec-')), 'auth');
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('ensureNatsAuth', () => {
  it('makes a private directory with a password per user and a config nats-server accepts', () => {
    const dir = freshDir();
    const auth = ensureNatsAuth(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(auth.configFile)).toBe(0o600);
    expect(mode(auth.credentialsFile)).toBe(0o600);
    expect(Object.keys(auth.credentials).sort()).toEqual(
      ['admin', 'agent', ...NATS_SERVICES].sort(),
    );
    const passwords = Object.values(auth.credentials).map((c) => c?.password ?? '');
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

  it('adds a user per relay id, keeps earlier relays and passwords, and refuses a bad id', () => {
    const dir = freshDir();
    const first = ensureNatsAuth(dir, { relayIds: ['site-a'] });
    const second = ensureNatsAuth(dir, { relayIds: ['site-a', 'site-b'] });
    expect(second.credentials['relay-site-a']).toEqual(first.credentials['relay-site-a']);
    expect(second.credentials['relay-site-b']?.password).toHaveLength(32);
    expect(second.credentials.agent).toEqual(first.credentials.agent);
    const config = readFileSync(second.configFile, 'utf8');
    for (const subject of relayNatsPermissions('site-b').publish)
      expect(config).toContain(JSON.stringify(subject));
    execFileSync(natsServerBinary(), ['-c', second.configFile, '-t'], { stdio: 'pipe' });
    // A relay no longer named keeps its password on file but is not a user of the server.
    const third = ensureNatsAuth(dir, { relayIds: ['site-b'] });
    expect(third.credentials['relay-site-a']).toEqual(first.credentials['relay-site-a']);
    expect(readFileSync(third.configFile, 'utf8')).not.toContain('"relay-site-a"');
    expect(() => ensureNatsAuth(dir, { relayIds: ['a.b'] })).toThrow();
  });

  it('gives a running server a new relay user on reload, and that user only its own grants', async () => {
    const nats = await startNatsServer({ authDir: freshDir(), relayIds: ['site-a'] });
    try {
      const credentials = await nats.addRelayUsers!(['site-b']);
      const b = credentials['relay-site-b'];
      const nc = (await connect({
        servers: nats.url,
        user: b?.user,
        pass: b?.password,
        reconnect: false,
        inboxPrefix: '_INBOX.relay-site-b',
      })) as NatsConnection;
      try {
        // JetStream survives the reload (its settings are in the configuration file, not flags).
        const jsm = await jetstreamManager(nc);
        expect((await jsm.getAccountInfo()).streams).toBe(0);
        nc.publish('fleet.v1.reported.site-b', '{}');
        await nc.flush();
        // Another relay's report subject is refused: the server closes with a permissions error.
        const refused = new Promise<string>((resolve) => {
          void (async () => {
            for await (const s of nc.status()) if (s.type === 'error') resolve(String(s.error));
          })();
        });
        nc.publish('fleet.v1.reported.site-a', '{}');
        await nc.flush();
        expect(await refused).toMatch(/permission/i);
      } finally {
        await nc.close();
      }
    } finally {
      await nats.stop();
    }
  });
});

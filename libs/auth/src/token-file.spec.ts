import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex, TokenTable } from './token-file';
import { WatchedFile } from './watched-file';

const file = (tokens: unknown[]) => JSON.stringify({ tokens });

describe('API_TOKENS_FILE', () => {
  it('finds a token by the SHA-256 of what the caller presents', () => {
    const table = TokenTable.parse(
      file([{ name: 'ci', role: 'operator', sha256: sha256Hex('s3cret').toUpperCase() }]),
    );
    expect(table.lookup('s3cret')).toEqual({ type: 'token', name: 'ci', role: 'operator' });
    expect(table.lookup('s3cret ')).toBeUndefined();
    expect(table.lookup(sha256Hex('s3cret'))).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"tokens": [', /not JSON/],
    ['an unknown role', file([{ name: 'x', role: 'root', sha256: sha256Hex('a') }]), /role/],
    [
      'a plain token instead of a hash',
      file([{ name: 'x', role: 'admin', sha256: 'abc' }]),
      /64 hex/,
    ],
    [
      'an extra key (a token kept in clear)',
      file([{ name: 'x', role: 'admin', sha256: sha256Hex('a'), token: 'a' }]),
      /token/,
    ],
    [
      'the same hash twice',
      file([
        { name: 'a', role: 'admin', sha256: sha256Hex('a') },
        { name: 'b', role: 'viewer', sha256: sha256Hex('a') },
      ]),
      /listed twice/,
    ],
  ])('refuses %s, saying why', (_what, text, reason) => {
    expect(() => TokenTable.parse(text)).toThrow(reason);
  });
});

describe('a watched file', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sup-watched-'));
    const path = join(dir, 'tokens.json');
    writeFileSync(path, file([{ name: 'one', role: 'viewer', sha256: sha256Hex('one') }]));
    const errors: unknown[] = [];
    const reloads: TokenTable[] = [];
    const watched = new WatchedFile(path, {
      parse: (text) => TokenTable.parse(text),
      debounceMs: 20,
      onError: (e) => errors.push(e),
      onReload: (t) => reloads.push(t),
    });
    return { dir, path, watched, errors, reloads };
  };

  it('throws at start when the file is unusable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sup-watched-'));
    writeFileSync(join(dir, 'bad.json'), '{}');
    expect(
      () => new WatchedFile(join(dir, 'bad.json'), { parse: (t) => TokenTable.parse(t) }),
    ).toThrow(/tokens/);
    expect(
      () => new WatchedFile(join(dir, 'missing.json'), { parse: (t) => TokenTable.parse(t) }),
    ).toThrow(/ENOENT/);
  });

  it('takes a file replaced by rename (a new inode), and keeps the old tokens when the new file is broken', async () => {
    const { dir, path, watched, errors, reloads } = setup();
    watched.watch();
    try {
      const next = join(dir, 'tokens.json.tmp');
      writeFileSync(next, file([{ name: 'two', role: 'admin', sha256: sha256Hex('two') }]));
      renameSync(next, path);
      // The directory watch schedules the reload; wait for it rather than for a fixed time.
      while (reloads.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(watched.current().lookup('two')).toMatchObject({ name: 'two', role: 'admin' });
      expect(watched.current().lookup('one')).toBeUndefined();

      writeFileSync(path, '{"tokens": [ half-written');
      while (errors.length === 0) await new Promise((r) => setTimeout(r, 10));
      expect(watched.current().lookup('two')).toMatchObject({ name: 'two' });
      expect(String(errors[0])).toMatch(/not JSON/);
    } finally {
      watched.close();
    }
  });

  it('reads again on demand and ignores a change that changed nothing', async () => {
    const { path, watched, reloads } = setup();
    await watched.reload();
    expect(reloads).toHaveLength(0);
    writeFileSync(path, file([{ name: 'three', role: 'relay', sha256: sha256Hex('three') }]));
    await watched.reload();
    expect(watched.current().lookup('three')).toMatchObject({ role: 'relay' });
    expect(reloads).toHaveLength(1);
  });
});

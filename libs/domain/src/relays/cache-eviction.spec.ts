import { planEviction, type CachedFile } from './cache-eviction';

const d = (c: string): string => c.repeat(64);
const file = (
  sha: string,
  version: string,
  lastUsedMs: number,
  more: Partial<CachedFile> = {},
): CachedFile => ({
  sha256: d(sha),
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version,
  size: 100,
  lastUsedMs,
  ...more,
});

describe('planEviction', () => {
  const old = file('a', '20.0.1-100', 50);
  const mid = file('b', '20.0.1-200', 10);
  const newest = file('c', '20.0.2-1', 5);
  const rules = file('e', '26-058', 1, { kind: 'security', component: 'firewall-rules' });
  const otherPlatform = file('f', '19.0.0-1', 2, { platform: 'windows-x86_64' });

  it.each([
    ['room left: nothing goes', [old, newest], 100, 300, [], [], true],
    [
      'superseded builds go first, oldest use first, even if used more recently than others',
      [old, mid, newest, rules],
      200,
      400,
      [],
      [d('b'), d('a')],
      true,
    ],
    [
      'then least recently used; a lone build of another platform is not superseded',
      [newest, rules, otherPlatform],
      100,
      300,
      [],
      [d('e')],
      true,
    ],
    ['required files are never evicted', [old, newest], 100, 200, [d('a')], [d('c')], true],
    [
      'not enough room even after evicting all allowed',
      [old, newest],
      250,
      300,
      [d('c')],
      [d('a')],
      false,
    ],
    [
      'an unreadable version is never superseded',
      [file('g', 'garbage', 1), newest],
      100,
      200,
      [d('c')],
      [d('g')],
      true,
    ],
    [
      'already over the bound with nothing incoming',
      [old, mid, newest],
      0,
      150,
      [],
      [d('b'), d('a')],
      true,
    ],
  ] as const)('%s', (_, files, incoming, max, required, evict, fits) => {
    expect(
      planEviction({
        files: [...files],
        incomingBytes: incoming,
        maxBytes: max,
        required: new Set(required),
      }),
    ).toEqual({ evict, fits });
  });
});

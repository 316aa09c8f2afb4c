import { parseWebhookSinks } from './config';

const SECRET = 'sixteen-chars-or-more';

describe('parseWebhookSinks', () => {
  it.each<[string, Record<string, string>, { urls?: string[]; problems?: RegExp[] }]>([
    ['none configured', {}, { urls: [] }],
    [
      'a JSON list',
      {
        ALERT_WEBHOOKS: JSON.stringify([
          { url: 'https://hooks.example.com/a', secret: SECRET },
          { url: 'http://10.0.0.5:8080/b', secret: SECRET },
        ]),
      },
      { urls: ['https://hooks.example.com/a', 'http://10.0.0.5:8080/b'] },
    ],
    [
      'a non-http scheme',
      { ALERT_WEBHOOKS: JSON.stringify([{ url: 'file:///etc/passwd', secret: SECRET }]) },
      { problems: [/^ALERT_WEBHOOKS\[0\.url\]: must be an http: or https: URL$/] },
    ],
    [
      'a short secret',
      { ALERT_WEBHOOKS: JSON.stringify([{ url: 'https://h.example/a', secret: 'short' }]) },
      { problems: [/^ALERT_WEBHOOKS\[0\.secret\]: must be at least 16 characters$/] },
    ],
    ['not JSON', { ALERT_WEBHOOKS: `[{"secret": "${SECRET}"` }, { problems: [/not JSON/] }],
    [
      'both variables',
      { ALERT_WEBHOOKS: '[]', ALERT_WEBHOOKS_FILE: '/x' },
      { problems: [/set one, not both/] },
    ],
  ])('%s', (_, env, expected) => {
    const { sinks, problems } = parseWebhookSinks(env);
    if (expected.urls) {
      expect(problems).toEqual([]);
      expect(sinks.map((s) => s.url)).toEqual(expected.urls);
    }
    for (const p of expected.problems ?? [])
      expect(problems).toContainEqual(expect.stringMatching(p));
    // The secrets travel in the same text: no problem may quote it.
    for (const p of problems) expect(p).not.toContain(SECRET);
  });

  it('reads the list from ALERT_WEBHOOKS_FILE, naming that variable in problems', () => {
    const files: Record<string, string> = {
      '/run/hooks.json': JSON.stringify([{ url: 'https://h.example/a', secret: SECRET }]),
      '/run/bad.json': JSON.stringify([{ url: 'ftp://h.example/a', secret: SECRET }]),
    };
    const read = (p: string) => {
      if (!(p in files)) throw new Error(`ENOENT: ${p}`);
      return files[p];
    };
    expect(parseWebhookSinks({ ALERT_WEBHOOKS_FILE: '/run/hooks.json' }, read).sinks).toHaveLength(
      1,
    );
    expect(parseWebhookSinks({ ALERT_WEBHOOKS_FILE: '/run/bad.json' }, read).problems).toEqual([
      'ALERT_WEBHOOKS_FILE[0.url]: must be an http: or https: URL',
    ]);
    expect(parseWebhookSinks({ ALERT_WEBHOOKS_FILE: '/nope' }, read).problems[0]).toMatch(
      /^ALERT_WEBHOOKS_FILE: cannot read/,
    );
  });
});

import { parseFeedIndex } from './index-parse';

const validIndex = {
  schemaVersion: 1,
  feed: 'acme-active-update',
  sequence: 42,
  generatedAt: '2026-03-01T10:00:00Z',
  expiresAt: '2026-04-01T10:00:00Z',
  updates: [{ kind: 'security' }],
};
const bytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe('parseFeedIndex', () => {
  it('parses a valid index', () => {
    expect(parseFeedIndex(bytes(validIndex))).toEqual({ ok: true, index: validIndex });
  });

  const noExpiry: Record<string, unknown> = { ...validIndex };
  delete noExpiry.expiresAt;
  it.each([
    ['bad JSON', Buffer.from('{"schemaVersion": 1, '), 'not-json', 'it is not valid JSON'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not-utf8', 'it is not valid UTF-8'],
    [
      'a wrong version',
      bytes({ ...validIndex, schemaVersion: 2 }),
      'schema',
      'schemaVersion: Invalid literal value, expected 1',
    ],
    ['a missing field', bytes(noExpiry), 'schema', 'expiresAt: Required'],
    ['a sequence past 2^53', bytes({ ...validIndex, sequence: 2 ** 60 }), 'schema', 'sequence:'],
    [
      'an expiry Date cannot read (it would never expire)',
      bytes({ ...validIndex, expiresAt: '2026-04-01T00:00:00+25:00' }),
      'schema',
      'expiresAt:',
    ],
  ])('reports %s with its problem', (_name, input, problem, issue) => {
    const result = parseFeedIndex(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toBe(problem);
    expect(result.issues.join('\n')).toContain(issue);
  });

  it('never quotes the bytes it could not parse', () => {
    const secret = 'root:x:0:0:root:/root:/bin/bash';
    const result = parseFeedIndex(Buffer.from(secret));
    expect(JSON.stringify(result)).not.toContain('root');
  });

  it('refuses bytes over the limit without parsing them', () => {
    const result = parseFeedIndex(bytes(validIndex), 10);
    expect(result).toEqual({ ok: false, problem: 'too-large', issues: ['over 10 bytes'] });
  });
});

import { parseDeadLetter, wireSubject, type DeadLetter } from './dead-letter';

const letter = (extra: Partial<DeadLetter> = {}): DeadLetter => ({
  service: 'checksum',
  consumer: 'checksum-main-updates-v1-imported',
  subject: 'updates.v1.imported.*',
  originalSubject: 'updates.v1.imported.upd_1',
  streamSeq: 7,
  deliveries: 5,
  error: 'boom',
  failedAt: '2026-11-29T14:00:00.000Z',
  event: '{"id":"upd_1:updates.v1.imported"}',
  ...extra,
});

describe('parseDeadLetter', () => {
  it('reads a dead letter back, with or without originalSubject', () => {
    expect(parseDeadLetter(JSON.stringify(letter()))).toEqual({ ok: true, letter: letter() });
    const older: DeadLetter = letter({ subject: 'updates.v1.imported' });
    delete older.originalSubject;
    const parsed = parseDeadLetter(JSON.stringify(older));
    expect(parsed).toEqual({ ok: true, letter: older });
    if (parsed.ok) expect(wireSubject(parsed.letter)).toBe('updates.v1.imported');
  });

  it('says why a body is not a dead letter', () => {
    expect(parseDeadLetter('nope')).toEqual({ ok: false, problem: 'not JSON' });
    const parsed = parseDeadLetter(JSON.stringify({ ...letter(), streamSeq: 'seven' }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain('streamSeq');
  });
});

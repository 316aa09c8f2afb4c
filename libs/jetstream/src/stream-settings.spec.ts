import { STREAMS, type StreamSpec } from '@sup/contracts';
import {
  assertStreamSettings,
  DEFAULT_STREAM_LIMITS,
  streamLimits,
  streamSettingsProblems,
} from './stream-settings';

const HOUR = 3_600_000;
const base = { replicas: 1, duplicateWindowMs: 10 * 60_000 };

describe('stream settings', () => {
  it('keep events and dead letters for weeks and put no age limit on the FEEDS work queue', () => {
    expect(streamLimits('UPDATES', base)).toEqual({
      maxAgeMs: 720 * HOUR,
      maxBytes: 10 * 1024 ** 3,
    });
    expect(streamLimits('ALERTS', base).maxAgeMs).toBe(2160 * HOUR);
    expect(streamLimits('DLQ', base).maxAgeMs).toBe(2160 * HOUR);
    expect(streamLimits('FEEDS', base)).toEqual({ maxAgeMs: 0, maxBytes: 0 });
    expect(streamSettingsProblems(base)).toEqual([]);
  });

  it('takes given limits per stream over the defaults', () => {
    const settings = { ...base, limits: { UPDATES: { maxAgeMs: HOUR, maxBytes: 0 } } };
    expect(streamLimits('UPDATES', settings)).toEqual({ maxAgeMs: HOUR, maxBytes: 0 });
    expect(streamLimits('DLQ', settings)).toEqual(DEFAULT_STREAM_LIMITS.DLQ);
  });

  it('refuses a duplicate window longer than any max age, naming each stream, but not against "no limit"', () => {
    const settings = {
      ...base,
      duplicateWindowMs: 2 * HOUR,
      limits: {
        UPDATES: { maxAgeMs: HOUR, maxBytes: 0 },
        ALERTS: { maxAgeMs: HOUR, maxBytes: 0 },
        DLQ: { maxAgeMs: 0, maxBytes: 0 },
      },
    };
    const problems = streamSettingsProblems(settings);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('UPDATES');
    expect(problems[1]).toContain('ALERTS');
    expect(() => assertStreamSettings(settings)).toThrow(
      /invalid stream settings: .*UPDATES.*ALERTS/,
    );
  });

  it('lists every nonsense value at once', () => {
    const problems = streamSettingsProblems({
      ...base,
      duplicateWindowMs: 0,
      limits: {
        UPDATES: { maxAgeMs: -1, maxBytes: 1.5 },
        TYPO: { maxAgeMs: HOUR, maxBytes: 0 },
        ALERTS: { maxAgeMs: 1e15, maxBytes: 0 },
      },
    });
    expect(problems.join('\n')).toMatch(/duplicate window/);
    expect(problems.join('\n')).toMatch(/TYPO, which is not a stream/);
    expect(problems.join('\n')).toMatch(/UPDATES: max age/);
    expect(problems.join('\n')).toMatch(/UPDATES: max bytes/);
    expect(problems.join('\n')).toMatch(/ALERTS: max age .*100 years/);
  });

  it('checks the streams it is given, so a new contract stream is covered without code here', () => {
    const work: StreamSpec = {
      name: 'WORK',
      subjects: ['work.>'],
      description: 'work',
      retention: 'workqueue',
    };
    const settings = { ...base, limits: { WORK: { maxAgeMs: 60_000, maxBytes: 0 } } };
    expect(streamSettingsProblems(settings, [...STREAMS, work])).toEqual([
      expect.stringContaining('WORK'),
    ]);
    expect(streamSettingsProblems(settings)).toEqual([
      'limits given for WORK, which is not a stream',
    ]);
  });
});

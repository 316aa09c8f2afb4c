import { relayFailedAlert, withdrawnAlert } from './event-rules';
import { digest } from './test-fixtures';

const failed = (code: 'digest-mismatch' | 'download-failed') => ({
  updateId: 'upd_0123456789abcdef01234567',
  relayId: 'relay-a',
  relayGroup: 'g1',
  code,
  reason: 'bytes differ',
  attempt: 2,
  failedAt: '2026-11-29T10:00:00.000Z',
});

describe('relay-verification-failed', () => {
  it.each<['digest-mismatch' | 'download-failed', string]>([
    ['digest-mismatch', 'critical'],
    ['download-failed', 'warning'],
  ])('%s is %s, one alert per update and relay', (code, severity) => {
    const o = relayFailedAlert(failed(code), 'evt-1', '2026-11-29T10:00:01.000Z');
    expect(o).toMatchObject({
      rule: 'relay-verification-failed',
      subject: 'upd_0123456789abcdef01234567:relay-a',
      severity,
      observationId: 'evt-1',
      details: { code, attempt: 2, relayId: 'relay-a' },
    });
  });
});

describe('update-withdrawn', () => {
  it('is critical and names both digests', () => {
    const o = withdrawnAlert(
      {
        updateId: 'upd_0123456789abcdef01234567',
        code: 'stored-digest-mismatch',
        reason: 'stored bytes differ',
        expectedSha256: digest(1),
        computedSha256: digest(2),
        withdrawnAt: '2026-11-29T10:00:00.000Z',
      },
      'evt-9',
      '2026-11-29T10:00:01.000Z',
    );
    expect(o).toMatchObject({
      rule: 'update-withdrawn',
      subject: 'upd_0123456789abcdef01234567',
      severity: 'critical',
      details: { expectedSha256: digest(1), computedSha256: digest(2) },
    });
  });
});

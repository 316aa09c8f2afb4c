import { rejectionAlert } from './rejection-alert';

const base = {
  updateId: 'upd_0123456789abcdef01234567',
  code: 'bad-signature',
  reason: 'signature does not verify',
  rejectedAt: '2026-11-28T00:00:00Z',
};

describe('rejectionAlert', () => {
  it('is critical for signature failures and keyed by update, so a replay raises the same alert', () => {
    const a = rejectionAlert({
      ...base,
      stage: 'signature',
      entry: { component: 'agent', version: '20.0.1-1' },
    });
    expect(a.severity).toBe('critical');
    expect(a.alertId).toBe('alert_update-rejected_upd_0123456789abcdef01234567');
    expect(a.summary).toContain('agent 20.0.1-1');
    expect(a.details).toMatchObject({ stage: 'signature', code: 'bad-signature' });
  });
  it('is a warning for a malformed feed entry', () => {
    expect(rejectionAlert({ ...base, stage: 'feed', code: 'invalid-entry' }).severity).toBe(
      'warning',
    );
  });
});

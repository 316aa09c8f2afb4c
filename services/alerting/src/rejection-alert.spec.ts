import { alertIdOf } from '@sup/domain';
import { rejectionAlert } from './rejection-alert';

const base = {
  updateId: 'upd_0123456789abcdef01234567',
  code: 'bad-signature',
  reason: 'signature does not verify',
  rejectedAt: '2026-11-28T00:00:00Z',
};
const AT = '2026-11-28T00:00:01.000Z';

describe('rejectionAlert', () => {
  it('is critical for signature failures and keyed by update, so a replay raises the same alert', () => {
    const a = rejectionAlert(
      { ...base, stage: 'signature', entry: { component: 'agent', version: '20.0.1-1' } },
      'evt-1',
      AT,
    );
    expect(a.severity).toBe('critical');
    expect(alertIdOf(a.rule, a.subject)).toBe('alert_update-rejected_upd_0123456789abcdef01234567');
    expect(a).toMatchObject({ observationId: 'evt-1', at: AT, updateId: base.updateId });
    expect(a.summary).toContain('agent 20.0.1-1');
    expect(a.details).toMatchObject({ stage: 'signature', code: 'bad-signature' });
  });
  it('is a warning for a malformed feed entry', () => {
    expect(
      rejectionAlert({ ...base, stage: 'feed', code: 'invalid-entry' }, 'evt-2', AT).severity,
    ).toBe('warning');
  });
});

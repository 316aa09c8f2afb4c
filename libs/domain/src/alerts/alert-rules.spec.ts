import type { AlertObservation } from './alert-lifecycle';
import { resolutionsFor, type AlertStateRef } from './alert-rules';

const holding = (subject: string): AlertObservation => ({
  rule: 'relay-unavailable',
  subject,
  severity: 'warning',
  summary: `${subject} stopped reporting`,
  details: {},
  observationId: `eval-1-${subject}`,
  at: '2026-11-29T10:00:00.000Z',
});
const alert = (subject: string, state: AlertStateRef['state'], rule = 'relay-unavailable') => ({
  id: `alert_${rule}_${subject}`,
  rule,
  subject,
  state,
});

describe('resolutionsFor', () => {
  it.each<[string, string[], AlertStateRef[], string[]]>([
    ['nothing holds and nothing is open', [], [], []],
    ['a relay that returned resolves', [], [alert('r1', 'open')], ['alert_relay-unavailable_r1']],
    [
      'an acknowledged one resolves too',
      [],
      [alert('r1', 'acknowledged')],
      ['alert_relay-unavailable_r1'],
    ],
    ['a relay still away stays', ['r1'], [alert('r1', 'open')], []],
    ['a resolved alert is left alone', [], [alert('r1', 'resolved')], []],
    ['other rules are not touched', [], [alert('u1', 'open', 'update-rejected')], []],
    [
      'only the ended subjects resolve',
      ['r2'],
      [alert('r1', 'open'), alert('r2', 'open'), alert('r3', 'acknowledged')],
      ['alert_relay-unavailable_r1', 'alert_relay-unavailable_r3'],
    ],
  ])('%s', (_, subjects, alerts, resolved) => {
    const evaluation = {
      rule: 'relay-unavailable',
      holding: subjects.map(holding),
      clearedReason: 'the relay reports again',
    };
    expect(resolutionsFor(evaluation, alerts)).toEqual(
      resolved.map((alertId) => ({ alertId, reason: 'the relay reports again' })),
    );
  });
});

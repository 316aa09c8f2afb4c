import {
  acknowledgeAlert,
  ALERT_HISTORY_LIMIT,
  alertEventToken,
  alertIdOf,
  AlertTransitionError,
  markAnnouncedThrough,
  observeAlert,
  resolveAlert,
  unannouncedTransitions,
  type AlertObservation,
  type AlertView,
} from './alert-lifecycle';

const obs = (n: number, patch: Partial<AlertObservation> = {}): AlertObservation => ({
  rule: 'update-rejected',
  subject: 'upd_0123456789abcdef01234567',
  severity: 'critical',
  summary: `rejected #${n}`,
  details: { n },
  observationId: `evt-${n}`,
  at: `2026-11-29T10:00:0${n}.000Z`,
  ...patch,
});

const raised = (): AlertView => observeAlert(undefined, obs(1)).view;

describe('alertIdOf', () => {
  it.each([
    ['update-rejected', 'upd_0123', 'alert_update-rejected_upd_0123'],
    ['relay-unavailable', 'relay-7', 'alert_relay-unavailable_relay-7'],
  ])('keeps a token subject readable: %s + %s', (rule, subject, id) => {
    expect(alertIdOf(rule, subject)).toBe(id);
  });
  it('hashes a subject that is no token, deterministically and distinctly', () => {
    const a = alertIdOf('software-update-available', 'linux/20.0');
    expect(a).toMatch(/^alert_software-update-available_h[0-9a-f]{32}$/);
    expect(alertIdOf('software-update-available', 'linux/20.0')).toBe(a);
    expect(alertIdOf('software-update-available', 'linux/20.1')).not.toBe(a);
  });
  it('names one event per transition', () => {
    expect(alertEventToken('alert_x_y', 3)).toBe('alert_x_y-3');
  });
});

describe('unannouncedTransitions and markAnnouncedThrough', () => {
  it('lists every transition until marked, then only the later ones', () => {
    const view = resolveAlert(raised(), 'gone', '2026-11-29T10:01:00.000Z').view;
    expect(unannouncedTransitions(view).map((h) => h.event)).toEqual(['raised', 'resolved']);
    const marked = markAnnouncedThrough(view, 1)!;
    expect(unannouncedTransitions(marked).map((h) => h.event)).toEqual(['resolved']);
    const all = markAnnouncedThrough(marked, view.seq)!;
    expect(unannouncedTransitions(all)).toEqual([]);
    expect(markAnnouncedThrough(all, 1)).toBeUndefined();
    expect(markAnnouncedThrough(all, view.seq)).toBeUndefined();
  });
});

describe('observeAlert', () => {
  it('raises a new alert: open, one occurrence, first = last seen', () => {
    const { view, transition } = observeAlert(undefined, obs(1));
    expect(transition).toEqual({ seq: 1, event: 'raised', at: obs(1).at, cause: 'evt-1' });
    expect(view).toMatchObject({
      id: 'alert_update-rejected_upd_0123456789abcdef01234567',
      state: 'open',
      occurrences: 1,
      firstSeen: obs(1).at,
      lastSeen: obs(1).at,
    });
  });

  it.each<[string, AlertObservation, number, string | undefined]>([
    ['a new sighting counts', obs(2), 2, 'occurred'],
    ['a redelivered sighting does not', obs(1), 1, undefined],
  ])('%s', (_, o, occurrences, event) => {
    const { view, transition } = observeAlert(raised(), o);
    expect(view.occurrences).toBe(occurrences);
    expect(transition?.event).toBe(event);
  });

  it('dedupes per rule + subject: sightings of one subject stay one alert', () => {
    let view: AlertView | undefined;
    for (const n of [1, 2, 3, 2, 3]) view = observeAlert(view, obs(n)).view;
    expect(view).toMatchObject({
      occurrences: 3,
      firstSeen: obs(1).at,
      lastSeen: obs(3).at,
      seq: 3,
    });
  });

  it('keeps the worst severity and the earliest first sighting whatever order they come in', () => {
    const late = observeAlert(undefined, obs(5, { severity: 'warning' })).view;
    const next = observeAlert(late, obs(2, { severity: 'critical' })).view;
    const milder = observeAlert(next, obs(6, { severity: 'info' })).view;
    expect(milder).toMatchObject({ severity: 'critical', lastSeen: obs(6).at });
    expect(next).toMatchObject({ firstSeen: obs(2).at, lastSeen: obs(5).at });
  });

  it('counts on an acknowledged alert without reopening it', () => {
    const acked = acknowledgeAlert(raised(), 'alice', obs(2).at).view;
    const { view } = observeAlert(acked, obs(3));
    expect(view).toMatchObject({ state: 'acknowledged', occurrences: 2, acknowledgedBy: 'alice' });
  });

  it('reopens a resolved alert, clearing ack and resolution, keeping history', () => {
    const acked = acknowledgeAlert(raised(), 'alice', obs(2).at).view;
    const resolved = resolveAlert(acked, 'relay reported again', obs(3).at).view;
    const { view, transition } = observeAlert(resolved, obs(4));
    expect(transition).toMatchObject({ event: 'reopened', seq: 4 });
    expect(view.state).toBe('open');
    expect(view.acknowledgedBy).toBeUndefined();
    expect(view.resolvedAt).toBeUndefined();
    expect(view.occurrences).toBe(2);
    expect(view.history.map((h) => h.event)).toEqual([
      'raised',
      'acknowledged',
      'resolved',
      'reopened',
    ]);
  });

  it('bounds history but never the transition number', () => {
    let view = raised();
    for (let n = 2; n <= ALERT_HISTORY_LIMIT + 20; n++) {
      view = observeAlert(view, obs(n, { observationId: `evt-${n}` })).view;
    }
    expect(view.history).toHaveLength(ALERT_HISTORY_LIMIT);
    expect(view.seq).toBe(ALERT_HISTORY_LIMIT + 20);
    expect(view.history.at(-1)?.seq).toBe(view.seq);
    expect(view.occurrences).toBe(ALERT_HISTORY_LIMIT + 20);
  });
});

describe('acknowledgeAlert', () => {
  it('records who and when', () => {
    const { view, transition } = acknowledgeAlert(raised(), 'alice', '2026-11-29T11:00:00.000Z');
    expect(view).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'alice',
      acknowledgedAt: '2026-11-29T11:00:00.000Z',
    });
    expect(transition).toMatchObject({ event: 'acknowledged', by: 'alice', seq: 2 });
  });
  it('is idempotent: a second ack changes nothing and keeps the first acker', () => {
    const once = acknowledgeAlert(raised(), 'alice', obs(2).at).view;
    const twice = acknowledgeAlert(once, 'bob', obs(3).at);
    expect(twice.transition).toBeUndefined();
    expect(twice.view).toBe(once);
  });
  it('refuses a resolved alert', () => {
    const resolved = resolveAlert(raised(), 'cleared', obs(2).at).view;
    expect(() => acknowledgeAlert(resolved, 'alice', obs(3).at)).toThrow(AlertTransitionError);
  });
});

describe('resolveAlert', () => {
  it.each<[string, (v: AlertView) => AlertView]>([
    ['open', (v) => v],
    ['acknowledged', (v) => acknowledgeAlert(v, 'alice', obs(2).at).view],
  ])('resolves an %s alert with its reason', (_, prepare) => {
    const { view, transition } = resolveAlert(prepare(raised()), 'condition ended', obs(5).at);
    expect(view).toMatchObject({
      state: 'resolved',
      resolvedAt: obs(5).at,
      resolveReason: 'condition ended',
    });
    expect(transition?.event).toBe('resolved');
  });
  it('changes nothing on a resolved alert', () => {
    const resolved = resolveAlert(raised(), 'cleared', obs(2).at).view;
    expect(resolveAlert(resolved, 'again', obs(3).at).transition).toBeUndefined();
  });
});

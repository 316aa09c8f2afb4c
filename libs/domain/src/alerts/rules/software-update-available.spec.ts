import { softwareUpdateAvailable } from './software-update-available';
import { agent, NOW, relay, settings, snapshot, software } from './test-fixtures';
import type { RuleComputer, RuleUpdate } from './snapshot';

const run = (computers: RuleComputer[], updates: RuleUpdate[]) =>
  softwareUpdateAvailable(snapshot(computers, updates), NOW, settings).holding;

describe('software-update-available', () => {
  it.each<
    [string, RuleComputer[], RuleUpdate[], { subject: string; target: string; count: number }[]]
  >([
    [
      'reference: agents on 9.6.100 and 9.6.200 published -> one alert',
      [agent('a1', '9.6.100'), agent('a2', '9.6.100')],
      [software('9.6.200')],
      [{ subject: 'agent/linux-x86_64/9.6', target: '9.6.200', count: 2 }],
    ],
    [
      'reference: 10.0.x published, no agent on 10.0 -> nothing',
      [agent('a1', '9.6.100')],
      [software('10.0.5')],
      [],
    ],
    [
      'reference: an agent on 10.0 present and 10.0.y published -> alert for the 10.0 line only',
      [agent('a1', '9.6.100'), agent('a2', '10.0.1')],
      [software('10.0.5')],
      [{ subject: 'agent/linux-x86_64/10.0', target: '10.0.5', count: 1 }],
    ],
    [
      'dash/dot: 20.0.1-12345 runs the published 20.0.1.12345 -> nothing',
      [agent('a1', '20.0.1-12345')],
      [software('20.0.1.12345')],
      [],
    ],
    [
      'dash/dot: 20.0.1-12345 behind 20.0.1.12346 -> alert with the canonical target',
      [agent('a1', '20.0.1-12345'), agent('a2', '20.0.1.12346')],
      [software('20.0.1-12346')],
      [{ subject: 'agent/linux-x86_64/20.0', target: '20.0.1.12346', count: 1 }],
    ],
    [
      'the newest build of the line is the target',
      [agent('a1', '9.6.100')],
      [software('9.6.200'), software('9.6.300'), software('9.6.150')],
      [{ subject: 'agent/linux-x86_64/9.6', target: '9.6.300', count: 1 }],
    ],
    [
      'another platform is another line',
      [agent('a1', '9.6.100', { platform: 'windows-x86_64' })],
      [software('9.6.200')],
      [],
    ],
    [
      'relays are judged against relay builds',
      [relay('r1', '9.6.100'), agent('a1', '9.6.300')],
      [software('9.6.200', { component: 'relay' })],
      [{ subject: 'relay/linux-x86_64/9.6', target: '9.6.200', count: 1 }],
    ],
    [
      'a withdrawn build is no target',
      [agent('a1', '9.6.100')],
      [software('9.6.200', { withdrawnAt: NOW.toISOString() })],
      [],
    ],
    [
      'an unreadable reported version is skipped',
      [agent('a1', 'banana')],
      [software('9.6.200')],
      [],
    ],
  ])('%s', (_, computers, updates, expected) => {
    expect(
      run(computers, updates).map((o) => ({
        subject: o.subject,
        target: o.details.target,
        count: o.details.count,
      })),
    ).toEqual(expected);
  });

  it('bounds the list of computers but not the count, and keys the sighting on the target', () => {
    const agents = ['a5', 'a4', 'a3', 'a2', 'a1'].map((id) => agent(id, '9.6.100'));
    const [o] = run(agents, [software('9.6.200')]);
    expect(o.details).toMatchObject({ count: 5, computers: ['a1', 'a2', 'a3'] });
    const [fewer] = run(agents.slice(2), [software('9.6.200')]);
    expect(fewer.observationId).toBe(o.observationId);
    const [newer] = run(agents, [software('9.6.300')]);
    expect(newer.observationId).not.toBe(o.observationId);
    expect(o).toMatchObject({ severity: 'info', updateId: software('9.6.200').updateId });
  });
});

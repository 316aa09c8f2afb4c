import { refuseReports } from './reporter';
import { fleetReport } from './report.fixture';

const report = fleetReport;
const relay = (id: string) => report({ id, role: 'relay' });

describe('who may post which fleet reports', () => {
  it.each([
    ['a relay its own report', { role: 'relay', name: 'relay-a' }, [relay('relay-a')], undefined],
    [
      'a relay another relay’s report',
      { role: 'relay', name: 'relay-a' },
      [relay('relay-a'), relay('relay-b')],
      'relay-mismatch',
    ],
    [
      'a relay an agent report under its own id',
      { role: 'relay', name: 'relay-a' },
      [report({ id: 'relay-a' })],
      'relay-mismatch',
    ],
    [
      'an agent agent reports',
      { role: 'agent', name: 'agents' },
      [report(), report({ id: 'pc-2' })],
      undefined,
    ],
    [
      'an agent a relay report',
      { role: 'agent', name: 'agents' },
      [report(), relay('relay-a')],
      'agent-reports-only',
    ],
    [
      'an operator anything',
      { role: 'operator', name: 'ops' },
      [report(), relay('relay-a')],
      undefined,
    ],
    ['an admin anything', { role: 'admin', name: 'root' }, [relay('relay-b')], undefined],
  ] as const)('%s', (_, caller, reports, code) => {
    expect(refuseReports(caller, reports)?.code).toBe(code);
  });

  it('names the credential and the first foreign report', () => {
    expect(refuseReports({ role: 'relay', name: 'relay-a' }, [relay('relay-b')])?.message).toBe(
      'relay relay-a may post only its own report (role relay, id relay-a), not relay relay-b',
    );
  });
});

import { CliError, parseAgentSimArgs, simAgents } from './cli-options';

const required = ['--control-plane', 'http://127.0.0.1:8080/v1', '--token-file', 'agent.token'];
const env = { TRUST_ANCHORS: '/etc/anchors.pem' };

describe('parseAgentSimArgs', () => {
  it('applies defaults and reads every flag, in both spellings', () => {
    expect(parseAgentSimArgs(required, env)).toMatchObject({
      agents: 50,
      platform: 'linux-x86_64',
      group: 'default',
      controlPlane: 'http://127.0.0.1:8080/v1',
      trustAnchors: '/etc/anchors.pem',
      idPrefix: 'sim-default',
      failRate: 0,
      rounds: 0,
    });
    const all = parseAgentSimArgs(
      [
        ...required,
        '--agents=200',
        '--platform',
        'windows-x86_64',
        '--group',
        'branch-2',
        '--fail-rate',
        '0.25',
        '--seed',
        '7',
        '--trust-anchors',
        'a.pem',
        '--rounds',
        '3',
      ],
      {},
    );
    expect(all).toMatchObject({
      agents: 200,
      platform: 'windows-x86_64',
      group: 'branch-2',
      failRate: 0.25,
      seed: 7,
      trustAnchors: 'a.pem',
      idPrefix: 'sim-branch-2',
      rounds: 3,
    });
  });

  it.each([
    [['--agents', '0'], /--agents must be a whole number from 1/],
    [['--agents', '1e3'], /--agents must be a whole number/],
    [['--fail-rate', '1.5'], /--fail-rate must be a number from 0 to 1/],
    [['--fail-rate', '-0.1'], /--fail-rate must be a number from 0 to 1/],
    [['--platform', 'Linux x86'], /--platform must look like/],
    [['--group', 'a/b'], /--group must be/],
    [['--colour', 'red'], /unknown flag --colour/],
    [['--agents'], /--agents needs a value/],
    [['--agents', '--group'], /--agents needs a value/],
    [['--agents', '2', '--agents', '3'], /--agents given twice/],
    [['stray'], /unexpected argument "stray"/],
  ])('refuses %j', (extra, message) => {
    expect(() => parseAgentSimArgs([...required, ...extra], env)).toThrow(message);
  });

  it('names the missing required flags', () => {
    expect(() => parseAgentSimArgs(['--token-file', 't'], env)).toThrow(
      /--control-plane is required/,
    );
    expect(() =>
      parseAgentSimArgs(['--control-plane', 'ftp://x/v1', '--token-file', 't'], env),
    ).toThrow(/must be http\(s\)/);
    expect(() => parseAgentSimArgs(['--control-plane', 'http://x/v1'], env)).toThrow(
      /--token-file is required/,
    );
    expect(() => parseAgentSimArgs(required, {})).toThrow(CliError);
  });
});

describe('simAgents', () => {
  it('numbers agents with a fixed width so ids sort in order', () => {
    const spec = { idPrefix: 'sim', platform: 'linux-x86_64', version: '20.0.0-1', group: 'g' };
    expect(
      simAgents(12, spec)
        .map((a) => a.id)
        .slice(0, 2),
    ).toEqual(['sim-01', 'sim-02']);
    expect(simAgents(12, spec)[11]).toEqual({
      id: 'sim-12',
      platform: 'linux-x86_64',
      version: '20.0.0-1',
      group: 'g',
    });
  });
});

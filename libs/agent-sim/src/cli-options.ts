import { PlatformSchema, RelayGroupNameSchema } from '@sup/contracts';

/** What `node dist/tools/agent-sim/main.js` is asked to run. */
export interface AgentSimCliOptions {
  agents: number;
  platform: string;
  group: string;
  version: string;
  controlPlane: string;
  tokenFile: string;
  trustAnchors: string;
  idPrefix: string;
  failRate: number;
  concurrency: number;
  intervalMs: number;
  /** Stop after this many rounds; 0 runs until SIGINT/SIGTERM. */
  rounds: number;
  seed?: number;
}

export const AGENT_SIM_USAGE = `usage: node dist/tools/agent-sim/main.js [flags]
  --agents N             simulated agents (1..100000, default 50)
  --platform P           their platform (default linux-x86_64)
  --group G              their relay group (default "default")
  --version V            the agent build they start on (default 20.0.0-1000)
  --control-plane URL    the API base, e.g. http://127.0.0.1:8080/v1 (required)
  --token-file PATH      file holding a bearer token with role agent (required)
  --trust-anchors PATH   PEM bundle the agents verify signatures against (default $TRUST_ANCHORS)
  --id-prefix S          agent ids are <prefix>-<n> (default sim-<group>)
  --fail-rate R          share of installs that fail, 0..1 (default 0)
  --concurrency N        agents working at once (1..1000, default 16)
  --interval-ms N        pause between rounds (default 5000)
  --rounds N             stop after N rounds (default 0: until Ctrl-C)
  --seed N               seed for which installs fail (default random)`;

export class CliError extends Error {
  override readonly name = 'CliError';
}

const FLAGS = new Set([
  'agents',
  'platform',
  'group',
  'version',
  'control-plane',
  'token-file',
  'trust-anchors',
  'id-prefix',
  'fail-rate',
  'concurrency',
  'interval-ms',
  'rounds',
  'seed',
]);

function integer(flag: string, raw: string | undefined, min: number, max: number, dflt: number) {
  if (raw === undefined) return dflt;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new CliError(`--${flag} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** Parses and validates the flags; every mistake is a CliError naming the flag. */
export function parseAgentSimArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): AgentSimCliOptions {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new CliError(`unexpected argument "${arg}"`);
    const [, name, inline] = match as unknown as [string, string, string | undefined];
    if (!FLAGS.has(name)) throw new CliError(`unknown flag --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--')))
      throw new CliError(`--${name} needs a value`);
    if (given.has(name)) throw new CliError(`--${name} given twice`);
    given.set(name, value);
  }
  const platform = given.get('platform') ?? 'linux-x86_64';
  if (!PlatformSchema.safeParse(platform).success)
    throw new CliError(`--platform must look like "linux-x86_64", got "${platform}"`);
  const group = given.get('group') ?? 'default';
  if (!RelayGroupNameSchema.safeParse(group).success)
    throw new CliError(`--group must be 1 to 64 letters, digits, "_" or "-", got "${group}"`);
  const controlPlane = given.get('control-plane');
  if (!controlPlane)
    throw new CliError('--control-plane is required (e.g. http://127.0.0.1:8080/v1)');
  let url: URL;
  try {
    url = new URL(controlPlane);
  } catch {
    throw new CliError(`--control-plane is not a URL: "${controlPlane}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--control-plane must be http(s), got "${controlPlane}"`);
  const tokenFile = given.get('token-file');
  if (!tokenFile) throw new CliError('--token-file is required (a file holding an agent token)');
  const trustAnchors = given.get('trust-anchors') ?? env.TRUST_ANCHORS;
  if (!trustAnchors) throw new CliError('--trust-anchors (or TRUST_ANCHORS) is required');
  const idPrefix = given.get('id-prefix') ?? `sim-${group}`;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(idPrefix))
    throw new CliError(`--id-prefix must be 1 to 100 letters, digits, "_" or "-"`);
  const rawFail = given.get('fail-rate');
  const failRate = rawFail === undefined ? 0 : Number(rawFail);
  if (rawFail !== undefined && (!/^\d*\.?\d+$/.test(rawFail) || failRate > 1))
    throw new CliError(`--fail-rate must be a number from 0 to 1, got "${rawFail}"`);
  const seed = given.get('seed');
  return {
    agents: integer('agents', given.get('agents'), 1, 100_000, 50),
    platform,
    group,
    version: given.get('version') ?? '20.0.0-1000',
    controlPlane: controlPlane.replace(/\/+$/, ''),
    tokenFile,
    trustAnchors,
    idPrefix,
    failRate,
    concurrency: integer('concurrency', given.get('concurrency'), 1, 1_000, 16),
    intervalMs: integer('interval-ms', given.get('interval-ms'), 0, 3_600_000, 5_000),
    rounds: integer('rounds', given.get('rounds'), 0, 1_000_000, 0),
    ...(seed !== undefined ? { seed: integer('seed', seed, 0, 2 ** 32 - 1, 0) } : {}),
  };
}

/** `count` agents `<prefix>-0001`… sharing a platform, build and group. */
export function simAgents(
  count: number,
  spec: { idPrefix: string; platform: string; version: string; group: string },
): { id: string; platform: string; version: string; group: string }[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    id: `${spec.idPrefix}-${String(i + 1).padStart(width, '0')}`,
    platform: spec.platform,
    version: spec.version,
    group: spec.group,
  }));
}

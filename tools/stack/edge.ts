import { AgentSimulator, seededRandom, simAgents } from '@sup/agent-sim';
import { loadTrustAnchors } from '@sup/integrity';
import {
  repoRoot,
  startProcess,
  waitForReady,
  type ManagedProcess,
  type NatsUserCredentials,
} from '@sup/process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMachineToken } from './api-token';

/** The demo relay's id and group: the group every new agent of the stack is in. */
export const STACK_RELAY_ID = 'local-relay';
export const STACK_GROUP = 'default';

export interface EdgeOptions {
  dataDir: string;
  /** `http://host:port/v1` of the gateway. */
  apiBase: string;
  natsUrl: string;
  /** The relay's own NATS user (`relay-local-relay`), when the stack runs NATS itself. */
  relayNats: NatsUserCredentials | undefined;
  trustAnchors: string;
  tokensFile: string;
  relayPort: number;
  agents: number;
  say: (message: string) => void;
}

export interface Edge {
  relay: ManagedProcess;
  agents: AgentSimulator;
  stop(): Promise<void>;
}

/** Polls until the services accept a token they have just been given (their file reload). */
async function tokenAccepted(url: string, token: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    await res.body?.cancel();
    if (res.status !== 401) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the services never accepted the token for ${url}`);
}

/**
 * The last hop of `npm start`: one relay (services/relay, group `default`, its cache under
 * DATA_DIR) and a handful of simulated agents (libs/agent-sim) in this process, so a newcomer sees
 * updates reach `relayed` and can start a rollout that moves the agents.
 */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const { dataDir, apiBase, say } = options;
  const relayToken = ensureMachineToken(dataDir, STACK_RELAY_ID, 'relay');
  const agentToken = ensureMachineToken(dataDir, 'simulated-agents', 'agent');
  await tokenAccepted(`${apiBase}/relays/${STACK_RELAY_ID}`, relayToken.token);
  await tokenAccepted(`${apiBase}/provenance/key`, agentToken.token);
  const cacheDir = join(dataDir, 'relay-cache');
  mkdirSync(cacheDir, { recursive: true });
  const relay = startProcess(
    'relay',
    process.execPath,
    [join(repoRoot(), 'dist/services/relay/main.js')],
    {
      env: {
        ...process.env,
        RELAY_ID: STACK_RELAY_ID,
        RELAY_GROUP: STACK_GROUP,
        NATS_URL: options.natsUrl,
        ...(options.relayNats
          ? { NATS_USER: options.relayNats.user, NATS_PASSWORD: options.relayNats.password }
          : {}),
        NATS_CREDS: '',
        HTTP_PORT: String(options.relayPort),
        HTTP_HOST: '127.0.0.1',
        RELAY_CACHE_DIR: cacheDir,
        TRUST_ANCHORS: options.trustAnchors,
        CONTROL_PLANE_URL: apiBase,
        RELAY_TOKEN: relayToken.token,
        API_TOKENS_FILE: options.tokensFile,
        RELAY_REPORT_INTERVAL_MS: '10000',
        // The demo feed's relay build: a relay older than the agent build would hold a rollout.
        RELAY_VERSION: '20.0.1-12345',
      },
      logFile: join(dataDir, 'logs', 'relay.log'),
    },
  );
  await waitForReady(relay, options.relayPort, 60_000);
  say(`relay ${STACK_RELAY_ID} (group ${STACK_GROUP}) on http://127.0.0.1:${options.relayPort}/v1`);
  const agents = new AgentSimulator({
    controlPlane: apiBase,
    token: agentToken.token,
    // An older build than the demo feed's, so a rollout has somewhere to take them.
    agents: simAgents(options.agents, {
      idPrefix: 'sim-agent',
      platform: 'linux-x86_64',
      version: '20.0.0-10000',
      group: STACK_GROUP,
    }),
    trustAnchors: loadTrustAnchors(options.trustAnchors),
    intervalMs: 10_000,
    concurrency: 4,
    random: seededRandom(1),
    log: say,
  });
  agents.start();
  say(
    `${options.agents} simulated agents (sim-agent-1…, linux-x86_64, 20.0.0-10000) report every 10 s; their token is in ${agentToken.tokenPath}`,
  );
  return {
    relay,
    agents,
    stop: async () => {
      await agents.stop();
      await relay.stop(10_000);
    },
  };
}

import { loadTrustAnchors } from '@sup/integrity';
import {
  AGENT_SIM_USAGE,
  AgentSimulator,
  CliError,
  parseAgentSimArgs,
  seededRandom,
  simAgents,
} from '@sup/agent-sim';
import { readFileSync } from 'node:fs';

/**
 * `node dist/tools/agent-sim/main.js --agents 50 --control-plane http://127.0.0.1:8080/v1
 * --token-file agent.token`: simulated agents against a running stack (see AgentSimulator).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${AGENT_SIM_USAGE}\n`);
    return;
  }
  const options = parseAgentSimArgs(args, process.env);
  let token: string;
  try {
    token = readFileSync(options.tokenFile, 'utf8').trim();
  } catch (error) {
    throw new CliError(
      `cannot read --token-file ${options.tokenFile}: ${(error as Error).message}`,
    );
  }
  if (!token) throw new CliError(`--token-file ${options.tokenFile} is empty`);
  const say = (m: string) => process.stdout.write(`${m}\n`);
  const sim = new AgentSimulator({
    controlPlane: options.controlPlane,
    token,
    agents: simAgents(options.agents, options),
    trustAnchors: loadTrustAnchors(options.trustAnchors),
    failRate: options.failRate,
    concurrency: options.concurrency,
    intervalMs: options.intervalMs,
    ...(options.seed !== undefined ? { random: seededRandom(options.seed) } : {}),
    log: say,
  });
  const summary = () =>
    say(
      `[agent-sim] round ${sim.stats.rounds}: ${sim.stats.installed} installed, ${sim.stats.failed} failed, ${sim.stats.downloads} downloads (${sim.stats.fromRelay} from relays, ${sim.stats.fromFallback} from the control plane), ${sim.stats.reportsPosted} reports`,
    );
  say(
    `[agent-sim] ${options.agents} agents (${options.idPrefix}-…, ${options.platform}, group ${options.group}) against ${options.controlPlane}`,
  );
  if (options.rounds > 0) {
    for (let i = 0; i < options.rounds; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, options.intervalMs));
      await sim.round();
      summary();
    }
    return;
  }
  const timer = setInterval(summary, Math.max(options.intervalMs, 5_000));
  const stop = () => {
    clearInterval(timer);
    void sim.stop().then(() => {
      summary();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  sim.start();
}

main().catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(`agent-sim: ${error.message}\n\n${AGENT_SIM_USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `agent-sim: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

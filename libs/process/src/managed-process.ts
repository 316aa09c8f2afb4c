import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { Socket } from 'node:net';
import { exitOf, isRunning, terminate, track } from './child-registry';

/** How much of a process's output is kept for error messages when it has no log file. */
const TAIL_CHARS = 4_000;

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly logFile: string | undefined;
  running(): boolean;
  /** "is running", "exited with code 1", "could not start (…)", for error messages. */
  status(): string;
  /** Where its output is, or its last few KB, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Spawns a child that never outlives this process (see child-registry) and never keeps it alive
 * on its own: a test that forgets one, or a hook that times out while starting one, still lets
 * jest exit. Its output goes to `logFile`, or its last few KB are kept for `output()`.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; logFile?: string; cwd?: string } = {},
): ManagedProcess {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  // Without a listener a spawn failure (ENOENT) would be an uncaught exception.
  child.on('error', (error) => (spawnError = error));
  track(child, name);
  child.unref();

  let tail = '';
  const outputs = [child.stdout, child.stderr].filter((s) => s !== null);
  if (options.logFile) {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    // Two sources: neither may end the file while the other still writes.
    for (const out of outputs) out.pipe(log, { end: false });
    child.once('close', () => log.end());
  } else {
    for (const out of outputs) {
      out.setEncoding('utf8');
      out.on('data', (chunk: string) => (tail = (tail + chunk).slice(-TAIL_CHARS)));
    }
  }
  for (const out of outputs) if (out instanceof Socket) out.unref();

  return {
    child,
    name,
    logFile: options.logFile,
    running: () => isRunning(child),
    status() {
      // spawn reports its failure a tick later; until then there is only the missing pid.
      if (child.pid === undefined) return `could not start (${spawnError?.message ?? command})`;
      if (child.exitCode !== null) return `exited with code ${child.exitCode}`;
      if (child.signalCode !== null) return `was killed by ${child.signalCode}`;
      return 'is running';
    },
    output() {
      if (options.logFile) return `see ${options.logFile}`;
      const last = tail.trim();
      return last ? `its last output:\n${last}` : 'it printed nothing';
    },
    stop: (graceMs = 10_000) => terminate(child, graceMs),
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!isRunning(child)) return;
      const exited = exitOf(child);
      child.kill(signal);
      await exited;
    },
  };
}

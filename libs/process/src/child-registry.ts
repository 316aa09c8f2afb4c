import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { runInThisContext } from 'node:vm';

/**
 * Every child process started through this library, for the whole OS process, so none outlives
 * it: SIGKILLed on 'exit', on SIGINT/SIGTERM/SIGHUP when nobody else handles them, and by a
 * guardian process when this one dies without running any code (SIGKILL, OOM killer).
 *
 * Jest runs each test file in its own vm context with a copy of `process` whose 'exit' and signal
 * listeners never fire, and loads this module afresh for every file. So the state lives on the
 * main context's global and the listeners go on the real process, once per OS process.
 */
const mainProcess = runInThisContext('process') as NodeJS.Process;
const mainGlobal = runInThisContext('globalThis') as Record<symbol, Registry | undefined>;
const KEY = Symbol.for('@sup/process/child-registry');

/** How long the guardian lets orphans shut down on SIGTERM before it SIGKILLs them. */
const GUARDIAN_GRACE_MS = 5_000;

interface Registry {
  /** Running children by name. */
  readonly children: Map<ChildProcess, string>;
  guardian?: ChildProcess;
}

export const isRunning = (child: ChildProcess): boolean =>
  child.pid !== undefined && child.exitCode === null && child.signalCode === null;

function registry(): Registry {
  let reg = mainGlobal[KEY];
  if (reg) return reg;
  reg = { children: new Map() };
  mainGlobal[KEY] = reg;
  const children = reg.children;
  const killAll = (): void => {
    for (const child of children.keys()) child.kill('SIGKILL');
  };
  mainProcess.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      // Someone else (the stack runner, jest) owns shutdown on this signal; 'exit' catches the rest.
      if (mainProcess.listenerCount(signal) > 1) return;
      killAll();
      // Listening replaced the default action (terminate); restore and re-raise it.
      mainProcess.removeListener(signal, onSignal);
      mainProcess.kill(mainProcess.pid, signal);
    };
    mainProcess.on(signal, onSignal);
  }
  return reg;
}

/**
 * The guardian: a small Node process reading "+pid" / "-pid" lines on stdin. Its stdin closes
 * only when this process is gone, however it died; it then SIGTERMs the pids still listed and
 * SIGKILLs what is left after the grace period. It ignores the terminal's signals so that a
 * Ctrl-C to the whole process group cannot take it down before it has done that.
 */
const GUARDIAN_SOURCE = `
const grace = Number(process.argv[1]);
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
const pids = new Set();
let pending = '';
const send = (signal) => pids.forEach((pid) => { try { process.kill(pid, signal); } catch {} });
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
let reaping = false;
const reap = () => {
  if (reaping) return;
  reaping = true;
  send('SIGTERM');
  const deadline = Date.now() + grace;
  setInterval(() => {
    if ([...pids].some(alive) && Date.now() < deadline) return;
    send('SIGKILL');
    process.exit(0);
  }, 100);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid);
    else pids.delete(pid);
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

function guardian(reg: Registry): ChildProcess {
  if (reg.guardian && isRunning(reg.guardian)) return reg.guardian;
  const g = spawn(mainProcess.execPath, ['-e', GUARDIAN_SOURCE, String(GUARDIAN_GRACE_MS)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // A guardian that failed or died leaves the in-process handlers; nothing to report.
  g.on('error', () => undefined);
  g.stdin?.on('error', () => undefined);
  // It must not keep this process alive: it only matters once this process is gone.
  g.unref();
  if (g.stdin instanceof Socket) g.stdin.unref();
  reg.guardian = g;
  return g;
}

/** Registers a freshly spawned child: it is killed if this process exits or dies first. */
export function track(child: ChildProcess, name: string): void {
  const pid = child.pid;
  if (pid === undefined) return; // never started; spawn reports the error
  const reg = registry();
  reg.children.set(child, name);
  const g = guardian(reg);
  g.stdin?.write(`+${pid}\n`);
  child.once('exit', () => {
    reg.children.delete(child);
    g.stdin?.write(`-${pid}\n`);
  });
}

/** Resolves when the child exits, keeping this process alive until then. */
export function exitOf(child: ChildProcess): Promise<void> {
  // Children are unref'd so forgotten ones never keep a process alive; waiting for one must.
  child.ref();
  return new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the child has exited. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(child)) return;
  const exited = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => isRunning(child) && child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// Reads without registering: asking what runs must not install handlers or a guardian.
const stillRunning = () =>
  [...(mainGlobal[KEY]?.children ?? [])].filter(([child]) => isRunning(child));
const label = ([child, name]: [ChildProcess, string]) => `${name} (pid ${child.pid})`;

/** "name (pid)" of every child started through this library that is still running. */
export const runningChildren = (): string[] => stillRunning().map(label);

/**
 * Stops every child still running (the jest environment calls it after each test file, so what a
 * failed hook started does not outlive its file). Returns "name (pid)" of each one it stopped.
 */
export async function stopAllChildren(graceMs: number): Promise<string[]> {
  const left = stillRunning();
  await Promise.all(left.map(([child]) => terminate(child, graceMs)));
  return left.map(label);
}

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from './managed-process';
import { repoRoot } from './repo-root';

/** Alive and not a zombie (an exited child nobody has reaped yet still answers kill(pid, 0)). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls until the process is gone; the deadline (within the test's) only turns a hang into a failure. */
async function gone(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !running(pid);
}

interface Run {
  pid: Promise<number>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts a process through this library (so a failing test cannot leave it behind either) and
 * collects its output and how it ended.
 */
function run(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv) {
  const proc = startProcess(name, command, args, { env: env ?? process.env, cwd: repoRoot() });
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: string) => (stdout += d));
  proc.child.stderr?.on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exit, stdout: () => stdout, output: () => stdout + stderr };
}

/**
 * A Node process that starts a sleeper through this library's sources (TypeScript, compiled by
 * a require hook), prints the sleeper's pid, then runs `script`.
 */
function runParent(script: string): Run {
  const code = `
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    require.extensions['.ts'] = (module, file) => module._compile(ts.transpileModule(
      require('node:fs').readFileSync(file, 'utf8'),
      { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } },
    ).outputText, file);
    const { startProcess } = require(${JSON.stringify(join(__dirname, 'managed-process.ts'))});
    const sleeper = startProcess('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    process.stdout.write(sleeper.child.pid + '\\n');
    ${script}
  `;
  const { proc, exit, stdout, output } = run('parent', process.execPath, ['-e', code]);
  const pid = new Promise<number>((resolve, reject) => {
    proc.child.stdout?.on('data', () => {
      if (stdout().includes('\n')) resolve(Number(stdout().split('\n')[0]));
    });
    void exit.then(() => reject(new Error(`exited before printing a pid: ${output()}`)));
  });
  return { pid, exit, kill: (signal) => proc.child.kill(signal) };
}

jest.setTimeout(30_000);

describe('children started with startProcess never outlive their parent', () => {
  it('when the parent throws: its exit handler kills them', async () => {
    const parent = runParent(`setTimeout(() => { throw new Error('boom'); }, 50);`);
    const pid = await parent.pid;
    expect((await parent.exit).code).toBe(1);
    expect(await gone(pid)).toBe(true);
  });

  it('when the parent has nothing left to do: a forgotten child does not keep it alive', async () => {
    const parent = runParent('');
    const pid = await parent.pid;
    expect(await parent.exit).toEqual({ code: 0, signal: null });
    expect(await gone(pid)).toBe(true);
  });

  it('when the parent gets SIGTERM and nobody else handles it: killed, and the signal still ends the parent', async () => {
    const parent = runParent('setInterval(() => {}, 1000);');
    const pid = await parent.pid;
    parent.kill('SIGTERM');
    expect(await parent.exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await gone(pid)).toBe(true);
  });

  it('when the parent is SIGKILLed and runs no code at all: the guardian kills them', async () => {
    const parent = runParent('setInterval(() => {}, 1000);');
    const pid = await parent.pid;
    expect(running(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect((await parent.exit).signal).toBe('SIGKILL');
    expect(await gone(pid)).toBe(true);
  });

  it('when a jest hook times out while a child runs: jest exits and the child is stopped', async () => {
    const root = repoRoot();
    const pidFile = join(mkdtempSync(join(tmpdir(), 'sup-hook-')), 'pid');
    const config = {
      rootDir: root,
      testEnvironment: join(__dirname, '../jest-environment.ts'),
      testMatch: [join(__dirname, '../test/failed-hook.fixture.ts')],
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: join(root, 'tsconfig.json') }] },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, PID_FILE: pidFile };
    delete env.JEST_WORKER_ID;
    const jest = run(
      'jest',
      process.execPath,
      [join(root, 'node_modules/jest/bin/jest.js'), '--ci', '--config', JSON.stringify(config)],
      env,
    );
    const { code, signal } = await jest.exit;
    const output = jest.output();
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(output).toMatch(/Exceeded timeout of 1000 ms for a hook/);
    expect(output).toMatch(
      /failed-hook\.fixture\.ts left running, now stopped: sleeper \(pid \d+\)/,
    );
    expect(await gone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  }, 60_000);
});

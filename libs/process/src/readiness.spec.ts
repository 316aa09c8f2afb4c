import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFerretDb } from './ferretdb';
import { startAll } from './infra';
import { startProcess } from './managed-process';
import { freePort, waitForPort, waitForReady } from './readiness';

const idle = () => startProcess('idle', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);

describe('a startup that fails stops what it started', () => {
  it('waitForPort stops a process that never opens its port', async () => {
    const proc = idle();
    await expect(waitForPort(proc, await freePort(), 300)).rejects.toThrow(
      /^idle did not open port \d+ within 300 ms; it printed nothing$/,
    );
    expect(proc.running()).toBe(false);
  });

  it('waitForReady stops a service that never gets ready', async () => {
    const proc = idle();
    await expect(waitForReady(proc, await freePort(), 300)).rejects.toThrow(
      /^idle did not answer \/healthz\/ready on port \d+ within 300 ms/,
    );
    expect(proc.running()).toBe(false);
  });

  it('fails at once, with the last output, when the process exits instead', async () => {
    const proc = startProcess('crasher', process.execPath, [
      '-e',
      'console.error("unknown flag -x"); process.exit(3)',
    ]);
    await expect(waitForPort(proc, await freePort(), 60_000)).rejects.toThrow(
      /^crasher exited with code 3 before it could open port \d+; its last output:\nunknown flag -x$/,
    );
  });

  it('names a command that does not exist', async () => {
    const proc = startProcess('nothing', '/nonexistent/binary', []);
    await expect(waitForPort(proc, await freePort(), 60_000)).rejects.toThrow(
      /^nothing could not start \(spawn \/nonexistent\/binary ENOENT\) before it could open port/,
    );
  });

  it('startFerretDb stops FerretDB when it never listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sup-fake-ferretdb-'));
    const fake = join(dir, 'ferretdb');
    writeFileSync(fake, `#!/bin/sh\necho $$ > ${dir}/pid\nexec sleep 300\n`);
    chmodSync(fake, 0o755);
    const saved = process.env.FERRETDB_BIN;
    process.env.FERRETDB_BIN = fake;
    try {
      await expect(startFerretDb({ timeoutMs: 500 })).rejects.toThrow(/ferretdb did not open port/);
    } finally {
      if (saved === undefined) delete process.env.FERRETDB_BIN;
      else process.env.FERRETDB_BIN = saved;
    }
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('startAll stops the ones that started when another fails', async () => {
    const stopped: string[] = [];
    const ok = (name: string) =>
      Promise.resolve({
        stop: () => {
          stopped.push(name);
          return Promise.resolve();
        },
      });
    await expect(
      startAll([ok('nats'), Promise.reject(new Error('no FerretDB')), ok('other')]),
    ).rejects.toThrow('no FerretDB');
    expect(stopped.sort()).toEqual(['nats', 'other']);
  });
});

import { writeFileSync } from 'node:fs';
import { startProcess } from '../src/managed-process';

// Run by child-registry.spec.ts in a jest of its own: a beforeAll that starts a process and then
// times out, the way a cold Go build used to time out a hook while FerretDB kept running.
beforeAll(async () => {
  const proc = startProcess('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  writeFileSync(process.env.PID_FILE ?? '', String(proc.child.pid));
  await new Promise(() => undefined);
}, 1_000);

it('never runs', () => undefined);

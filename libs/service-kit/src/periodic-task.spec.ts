import pino from 'pino';
import { PeriodicTask } from './periodic-task';

const silent = pino({ level: 'silent' });

describe('PeriodicTask', () => {
  it('never runs twice at once: a tick during a run joins it', async () => {
    let runs = 0;
    let release!: () => void;
    const task = new PeriodicTask(
      'test',
      60_000,
      () => {
        runs++;
        return new Promise<void>((r) => (release = r));
      },
      silent,
    );
    const first = task.runOnce();
    const second = task.runOnce();
    expect(runs).toBe(1);
    release();
    await Promise.all([first, second]);
    const third = task.runOnce();
    expect(runs).toBe(2);
    release();
    await third;
  });

  it('logs a failed run and runs again on the next call', async () => {
    const warn = jest.spyOn(silent, 'warn');
    let calls = 0;
    const task = new PeriodicTask(
      'sweep',
      60_000,
      () => (++calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve()),
      silent,
    );
    await task.runOnce();
    await task.runOnce();
    expect(calls).toBe(2);
    expect(warn).toHaveBeenCalledWith(expect.anything(), 'sweep failed');
    await task.stop();
  });
});

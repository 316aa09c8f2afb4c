import { KeyedMutex } from './keyed-mutex';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedMutex', () => {
  it('serialises work on one key and keeps its order', async () => {
    const mutex = new KeyedMutex();
    const seen: string[] = [];
    let inside = 0;
    let maxInside = 0;
    const job = (name: string) =>
      mutex.run('k', async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await tick();
        seen.push(name);
        inside--;
      });
    await Promise.all([job('a'), job('b'), job('c')]);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(maxInside).toBe(1);
  });

  it('runs different keys concurrently and survives a failing job', async () => {
    const mutex = new KeyedMutex();
    let inside = 0;
    let maxInside = 0;
    const job = (key: string) =>
      mutex.run(key, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await tick();
        inside--;
      });
    await Promise.all([job('x'), job('y')]);
    expect(maxInside).toBe(2);
    await expect(mutex.run('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(mutex.run('x', () => Promise.resolve(42))).resolves.toBe(42);
  });
});

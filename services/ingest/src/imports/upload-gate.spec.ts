import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportRefusal } from './import-refusal';
import { UploadGate, type UploadGateLimits } from './upload-gate';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'upload-gate-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

const gate = (over: Partial<UploadGateLimits> = {}): UploadGate =>
  new UploadGate({
    uploadDir: join(root, 'uploads'),
    maxConcurrent: 2,
    minFreeBytes: 0,
    maxBundleBytes: 1000,
    ...over,
  });

async function refusal(attempt: Promise<unknown>): Promise<ImportRefusal> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ImportRefusal))
    throw new Error(`expected a refusal, got ${String(error)}`);
  return error;
}

describe('UploadGate', () => {
  it('gives each upload its own directory under the upload dir and always removes it', async () => {
    const g = gate();
    const a = await g.enter(10);
    const b = await g.enter(undefined);
    expect(a.tempDir).not.toBe(b.tempDir);
    expect(a.tempDir.startsWith(join(root, 'uploads'))).toBe(true);
    await writeFile(join(a.tempDir, 'part'), 'bytes');
    await a.leave();
    await a.leave(); // a second leave frees no second slot
    await b.leave();
    expect(await readdir(join(root, 'uploads'))).toEqual([]);
  });

  it('answers 503 with Retry-After when every slot is taken, and admits again once one leaves', async () => {
    const g = gate({ maxConcurrent: 1 });
    const first = await g.enter(1);
    const busy = await refusal(g.enter(1));
    expect(busy.getStatus()).toBe(503);
    expect(busy.code).toBe('busy');
    expect(busy.headers['retry-after']).toMatch(/^\d+$/);
    await first.leave();
    await (await g.enter(1)).leave();
  });

  it('refuses a declared length over the bundle cap before taking a slot (413)', async () => {
    const g = gate({ maxConcurrent: 1 });
    const big = await refusal(g.enter(1001));
    expect([big.getStatus(), big.code]).toEqual([413, 'bundle-too-large']);
    await (await g.enter(1000)).leave();
  });

  it('refuses when the disk would keep less than the reserve (507), freeing the slot', async () => {
    const g = gate({ maxConcurrent: 1, minFreeBytes: Number.MAX_SAFE_INTEGER });
    const full = await refusal(g.enter(1));
    expect([full.getStatus(), full.code]).toEqual([507, 'insufficient-storage']);
    expect(await readdir(join(root, 'uploads'))).toEqual([]);
    const again = await refusal(g.enter(1));
    expect(again.code).toBe('insufficient-storage'); // not 'busy': the slot was given back
  });

  it('sweeps what a crashed upload left, not an upload still being written', async () => {
    const g = gate();
    const uploads = join(root, 'uploads');
    const dead = join(uploads, 'imp-dead');
    await mkdir(dead, { recursive: true });
    await writeFile(join(dead, 'part'), 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(dead, 'part'), hourAgo, hourAgo);
    await utimes(dead, hourAgo, hourAgo);
    const live = await g.enter(1);
    await writeFile(join(live.tempDir, 'part'), 'being written');
    expect(await g.sweepStale(600_000)).toEqual(['imp-dead']);
    expect(await readdir(uploads)).toEqual([live.tempDir.slice(uploads.length + 1)]);
    await live.leave();
  });
});

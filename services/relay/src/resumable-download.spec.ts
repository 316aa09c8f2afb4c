import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DownloadError, downloadResumable } from './resumable-download';

/** A file server with Range, that can cut the first answer after `cutAfter` bytes. */
function fileServer(
  body: Buffer,
  behaviour: { cutAfter?: number; ignoreRange?: boolean; stallAfter?: number } = {},
) {
  const ranges: (string | undefined)[] = [];
  let cut = behaviour.cutAfter;
  let stall = behaviour.stallAfter;
  const stalled: { destroy(): void }[] = [];
  const server: Server = createServer((req, res) => {
    if (req.url !== '/file') {
      res.writeHead(404).end();
      return;
    }
    ranges.push(req.headers.range);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && !behaviour.ignoreRange ? Number(m[1]) : 0;
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const slice = body.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': String(slice.length),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (stall !== undefined) {
      // Sends some bytes, then nothing, without closing: a silent connection.
      res.write(slice.subarray(0, stall));
      stalled.push(res);
      stall = undefined;
      return;
    }
    if (cut !== undefined) {
      // Cut once the first bytes left this process, so the client surely has some of them.
      res.write(slice.subarray(0, cut), () => setTimeout(() => res.destroy(), 100));
      cut = undefined;
      return;
    }
    res.end(slice);
  });
  return new Promise<{ url: string; ranges: typeof ranges; close: () => Promise<void> }>(
    (resolve) =>
      server.listen(0, '127.0.0.1', () =>
        resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          ranges,
          close: () => {
            for (const r of stalled) r.destroy();
            return new Promise((r) => server.close(() => r()));
          },
        }),
      ),
  );
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const body = randomBytes(256 * 1024 + 17);
const partFile = (): string => join(mkdtempSync(join(tmpdir(), 'relay-dl-')), 'x.part');

describe('downloadResumable', () => {
  it('resumes a cut download from the bytes on disk with a Range request', async () => {
    const server = await fileServer(body, { cutAfter: 100_000 });
    const part = partFile();
    const d = {
      url: `${server.url}/file`,
      partFile: part,
      expectedSize: body.length,
      timeoutMs: 10_000,
    };
    try {
      await expect(downloadResumable(d)).rejects.toMatchObject({ failure: 'transient' });
      const kept = readFileSync(part).length;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(body.length);
      const second = await downloadResumable(d);
      expect(second).toEqual({ resumedFrom: kept, fetched: body.length - kept });
      expect(server.ranges).toEqual([undefined, `bytes=${kept}-`]);
      expect(sha(readFileSync(part))).toBe(sha(body));
    } finally {
      await server.close();
    }
  });

  it('cuts a stalled transfer after the idle limit, keeps its bytes and resumes', async () => {
    const server = await fileServer(body, { stallAfter: 50_000 });
    const part = partFile();
    // The whole limit is far away: only the idle limit can end the first attempt.
    const d = {
      url: `${server.url}/file`,
      partFile: part,
      expectedSize: body.length,
      timeoutMs: 3_600_000,
      idleTimeoutMs: 300,
    };
    try {
      await expect(downloadResumable(d)).rejects.toThrow(/stalled/);
      const kept = readFileSync(part).length;
      expect(kept).toBeGreaterThan(0);
      const second = await downloadResumable(d);
      expect(second.resumedFrom).toBe(kept);
      expect(sha(readFileSync(part))).toBe(sha(body));
    } finally {
      await server.close();
    }
  });

  it('starts over when the server ignores the range (200)', async () => {
    const server = await fileServer(body, { ignoreRange: true });
    const part = partFile();
    writeFileSync(part, body.subarray(0, 1_000));
    try {
      const outcome = await downloadResumable({
        url: `${server.url}/file`,
        partFile: part,
        expectedSize: body.length,
        timeoutMs: 10_000,
      });
      expect(outcome).toEqual({ resumedFrom: 0, fetched: body.length });
      expect(sha(readFileSync(part))).toBe(sha(body));
    } finally {
      await server.close();
    }
  });

  it('refuses more bytes than published and keeps nothing', async () => {
    const server = await fileServer(body);
    const part = partFile();
    try {
      const error = await downloadResumable({
        url: `${server.url}/file`,
        partFile: part,
        expectedSize: body.length - 1,
        timeoutMs: 10_000,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DownloadError);
      expect(error).toMatchObject({ failure: 'size-mismatch' });
      expect(() => readFileSync(part)).toThrow();
    } finally {
      await server.close();
    }
  });

  it('says a 404 is not offered (no retry) and a longer part than published starts over', async () => {
    const server = await fileServer(body);
    const part = partFile();
    try {
      await expect(
        downloadResumable({
          url: `${server.url}/gone`,
          partFile: part,
          expectedSize: 1,
          timeoutMs: 5_000,
        }),
      ).rejects.toMatchObject({ failure: 'not-offered' });
      writeFileSync(part, Buffer.alloc(body.length + 5));
      await downloadResumable({
        url: `${server.url}/file`,
        partFile: part,
        expectedSize: body.length,
        timeoutMs: 10_000,
      });
      expect(sha(readFileSync(part))).toBe(sha(body));
      expect(server.ranges).toEqual([undefined]);
    } finally {
      await server.close();
    }
  });
});

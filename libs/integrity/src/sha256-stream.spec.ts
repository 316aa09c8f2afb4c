import { runOpenssl } from '@sup/testing';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentTooLargeError } from './byte-source';
import { hashFile, hashFileHandle, hashStream } from './sha256-stream';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Yields `data` in `size`-byte chunks from an asynchronous producer, like a network body. */
async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) {
    await Promise.resolve();
    yield data.subarray(i, i + size);
  }
}

describe('hashStream / hashFile', () => {
  let dir: string;
  let file: string;
  let data: Buffer;
  let opensslDigest: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sup-hash-'));
    file = join(dir, 'artifact.bin');
    // Not a multiple of any chunk size, so the last partial chunk is exercised too.
    data = randomBytes(5 * 1024 * 1024 + 12_345);
    await writeFile(file, data);
    const out = await runOpenssl(['dgst', '-sha256', '-r', file]);
    opensslDigest = out.trim().split(/\s+/)[0] ?? '';
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('matches `openssl dgst -sha256` on a multi-MB file', async () => {
    expect(opensslDigest).toMatch(/^[0-9a-f]{64}$/);
    await expect(hashFile(file)).resolves.toEqual({ sha256: opensslDigest, size: data.length });
  });

  it('gives the same digest for any chunking of the same bytes', async () => {
    await expect(hashStream(chunks(data, 7_919))).resolves.toEqual({
      sha256: opensslDigest,
      size: data.length,
    });
    await expect(hashStream(Readable.from(chunks(data, 1 << 20)))).resolves.toEqual({
      sha256: opensslDigest,
      size: data.length,
    });
  });

  it('hashes an empty source', async () => {
    await expect(hashStream(chunks(Buffer.alloc(0), 1))).resolves.toEqual({
      sha256: EMPTY_SHA256,
      size: 0,
    });
  });

  it('reports monotonic progress ending at the total size', async () => {
    const seen: number[] = [];
    await hashStream(chunks(data, 1 << 20), { onProgress: (bytes) => seen.push(bytes) });
    expect(seen).toHaveLength(6);
    expect(seen[seen.length - 1]).toBe(data.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('accepts content of exactly maxBytes', async () => {
    await expect(hashFile(file, { maxBytes: data.length })).resolves.toMatchObject({
      size: data.length,
    });
  });

  it('fails with ContentTooLargeError one byte past maxBytes and stops reading', async () => {
    const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
    const error: unknown = await hashStream(stream, { maxBytes: data.length - 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error).toMatchObject({ code: 'content-too-large', maxBytes: data.length - 1 });
    expect(stream.destroyed).toBe(true);
  });

  it('stops early when the limit is far below the size', async () => {
    let pulled = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const c of chunks(data, 1024)) {
        pulled++;
        yield c;
      }
    }
    await expect(hashStream(counting(), { maxBytes: 4096 })).rejects.toBeInstanceOf(
      ContentTooLargeError,
    );
    expect(pulled).toBe(5);
  });

  it('refuses string chunks instead of guessing their encoding', async () => {
    const stream = Readable.from(['not', 'bytes']);
    await expect(hashStream(stream)).rejects.toThrow(TypeError);
  });

  it('rejects an invalid maxBytes', async () => {
    await expect(hashStream(chunks(data, 1024), { maxBytes: -1 })).rejects.toThrow(RangeError);
  });

  it('propagates read errors', async () => {
    await expect(hashFile(join(dir, 'missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  describe('hashFileHandle', () => {
    it('hashes the whole file whatever the handle position, and leaves the handle open', async () => {
      const handle = await open(file, 'r');
      try {
        await handle.read(Buffer.alloc(4096), 0, 4096, null); // move the file position
        await expect(hashFileHandle(handle)).resolves.toEqual({
          sha256: opensslDigest,
          size: data.length,
        });
        // Still usable: the caller owns it.
        await expect(hashFileHandle(handle)).resolves.toMatchObject({ size: data.length });
      } finally {
        await handle.close();
      }
    });

    it('reports progress per chunk, ending at the size', async () => {
      const seen: number[] = [];
      const handle = await open(file, 'r');
      try {
        await hashFileHandle(handle, { onProgress: (bytes) => seen.push(bytes) });
      } finally {
        await handle.close();
      }
      expect(seen).toEqual([1, 2, 3, 4, 5].map((mib) => mib * 1024 * 1024).concat(data.length));
    });

    it('accepts exactly maxBytes and refuses one byte more', async () => {
      const handle = await open(file, 'r');
      try {
        await expect(hashFileHandle(handle, { maxBytes: data.length })).resolves.toMatchObject({
          size: data.length,
        });
        const error: unknown = await hashFileHandle(handle, { maxBytes: data.length - 1 }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ContentTooLargeError);
        expect(error).toMatchObject({ maxBytes: data.length - 1, bytesRead: data.length });
        await expect(hashFileHandle(handle, { maxBytes: -1 })).rejects.toThrow(RangeError);
      } finally {
        await handle.close();
      }
    });

    it('hashes an empty file', async () => {
      const empty = join(dir, 'empty.bin');
      await writeFile(empty, Buffer.alloc(0));
      await expect(hashFile(empty)).resolves.toEqual({ sha256: EMPTY_SHA256, size: 0 });
    });
  });
});

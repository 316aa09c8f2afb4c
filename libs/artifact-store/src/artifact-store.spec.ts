import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { useMongo, type RunningMongo } from '@sup/testing';
import {
  ArtifactNotFoundError,
  ArtifactTooLargeError,
  InvalidArtifactKeyError,
  hashArtifact,
  putBytes,
  type ArtifactStore,
} from './artifact-store';
import { createArtifactStore } from './create-artifact-store';
import { FsArtifactStore } from './fs-artifact-store';
import { GRIDFS_TEMP_PREFIX, GridFsArtifactStore } from './gridfs-artifact-store';

jest.setTimeout(60_000);

interface Inventory {
  /** Contents reachable under a key. */
  stored: number;
  /** Anything else: temp files, temp documents, orphaned chunks. */
  residue: number;
}

interface StoreHarness {
  store: ArtifactStore;
  copies(key: string): Promise<number>;
  inventory(): Promise<Inventory>;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** A stream of `data` in irregular chunk sizes, so chunk boundaries never line up with the store's. */
function streamOf(data: Buffer, maxChunk = 100_000): Readable {
  let offset = 0;
  let step = 1;
  return new Readable({
    read() {
      if (offset >= data.length) {
        this.push(null);
        return;
      }
      step = (step * 7919) % maxChunk || 1;
      const end = Math.min(data.length, offset + step);
      this.push(data.subarray(offset, end));
      offset = end;
    },
  });
}

async function* generatorOf(data: Buffer, chunk = 65_536): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += chunk) {
    await Promise.resolve();
    yield data.subarray(offset, offset + chunk);
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** Compares by digest: jest's deep equality walks a Buffer byte by byte (minutes for a few MB). */
function expectBytes(actual: Buffer, expected: Buffer): void {
  expect({ size: actual.length, sha256: sha256(actual) }).toEqual({
    size: expected.length,
    sha256: sha256(expected),
  });
}

const BAD_KEYS = [
  '',
  '../../etc/passwd',
  'A'.repeat(64),
  'g'.repeat(64),
  'a'.repeat(63),
  'a'.repeat(65),
  `${'a'.repeat(62)}/x`,
  `${'a'.repeat(64)}\n`,
];

/** The same store as an implementation without the optional `hash`, as older ones are. */
function withoutHash(store: ArtifactStore): ArtifactStore {
  return {
    driver: store.driver,
    put: (source, opts) => store.put(source, opts),
    open: (key) => store.open(key),
    stat: (key) => store.stat(key),
    delete: (key) => store.delete(key),
  };
}

/** The contract every driver must meet. */
function describeArtifactStore(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let h: StoreHarness;
    beforeEach(async () => {
      h = await makeHarness();
    });

    it('round-trips several MB streamed in irregular chunks', async () => {
      const data = randomBytes(5 * 1024 * 1024 + 12_345);
      const result = await h.store.put(streamOf(data));
      expect(result).toEqual({ key: sha256(data), size: data.length, created: true });
      expectBytes(await readAll(await h.store.open(result.key)), data);
      expect(await h.store.stat(result.key)).toEqual({ size: data.length });
      expect(await h.inventory()).toEqual({ stored: 1, residue: 0 });
    });

    it('stores bytes already in memory once, like put, and reads them back', async () => {
      const data = randomBytes(6_000);
      const first = await putBytes(h.store, data);
      expect(first).toEqual({ key: sha256(data), size: data.length, created: true });
      expect(await putBytes(h.store, data)).toEqual({ ...first, created: false });
      expect(await h.store.put(Readable.from([data]))).toEqual({ ...first, created: false });
      expectBytes(await readAll(await h.store.open(first.key)), data);
      expect(await h.inventory()).toEqual({ stored: 1, residue: 0 });
    });

    it('accepts any async iterable of buffers', async () => {
      const data = randomBytes(300_000);
      const result = await h.store.put(generatorOf(data));
      expect(result.key).toBe(sha256(data));
      expectBytes(await readAll(await h.store.open(result.key)), data);
    });

    it('stores empty content', async () => {
      const result = await h.store.put(Readable.from([]));
      expect(result).toEqual({ key: sha256(Buffer.alloc(0)), size: 0, created: true });
      expectBytes(await readAll(await h.store.open(result.key)), Buffer.alloc(0));
      expect(await h.store.stat(result.key)).toEqual({ size: 0 });
    });

    it('hashes the stored bytes, with and without the driver fast path', async () => {
      // Several read chunks plus a partial one, and an empty file.
      for (const data of [randomBytes(3 * 1024 * 1024 + 4321), Buffer.alloc(0)]) {
        const { key } = await h.store.put(streamOf(data));
        const expected = { sha256: sha256(data), size: data.length };
        await expect(h.store.hash?.(key)).resolves.toEqual(expected);
        await expect(hashArtifact(h.store, key)).resolves.toEqual(expected);
        await expect(hashArtifact(withoutHash(h.store), key)).resolves.toEqual(expected);
      }
      const missing = sha256(Buffer.from('never stored'));
      await expect(hashArtifact(h.store, missing)).rejects.toBeInstanceOf(ArtifactNotFoundError);
      await expect(hashArtifact(withoutHash(h.store), missing)).rejects.toBeInstanceOf(
        ArtifactNotFoundError,
      );
    });

    it('stores the same content once', async () => {
      const data = randomBytes(1_500_000);
      const first = await h.store.put(streamOf(data));
      const second = await h.store.put(generatorOf(data));
      expect(first.created).toBe(true);
      expect(second).toEqual({ key: first.key, size: data.length, created: false });
      expect(await h.copies(first.key)).toBe(1);
      expect(await h.inventory()).toEqual({ stored: 1, residue: 0 });
      expectBytes(await readAll(await h.store.open(first.key)), data);
    });

    it('refuses content over maxBytes and leaves nothing behind', async () => {
      const data = randomBytes(3 * 1024 * 1024);
      const source = streamOf(data);
      await expect(h.store.put(source, { maxBytes: data.length - 1 })).rejects.toBeInstanceOf(
        ArtifactTooLargeError,
      );
      expect(source.destroyed).toBe(true);
      expect(await h.store.stat(sha256(data))).toBeNull();
      expect(await h.inventory()).toEqual({ stored: 0, residue: 0 });
      // Exactly at the limit is fine.
      const ok = await h.store.put(streamOf(data), { maxBytes: data.length });
      expect(ok).toMatchObject({ size: data.length, created: true });
    });

    it('reports the limit in the error', async () => {
      const error = await h.store.put(generatorOf(randomBytes(2000), 100), { maxBytes: 1000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ArtifactTooLargeError);
      expect((error as ArtifactTooLargeError).maxBytes).toBe(1000);
      expect((error as Error).message).toContain('1000 bytes');
      expect(await h.inventory()).toEqual({ stored: 0, residue: 0 });
    });

    it('rethrows a failing source and stores nothing', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield randomBytes(2 * 1024 * 1024);
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('connection reset by vendor');
      }
      await expect(h.store.put(failing())).rejects.toThrow('connection reset by vendor');
      expect(await h.inventory()).toEqual({ stored: 0, residue: 0 });
    });

    it('reports a missing key', async () => {
      const key = sha256(Buffer.from('never stored'));
      await expect(h.store.open(key)).rejects.toBeInstanceOf(ArtifactNotFoundError);
      await expect(h.store.open(key)).rejects.toThrow(key);
      expect(await h.store.stat(key)).toBeNull();
      expect(await h.store.delete(key)).toBe(false);
    });

    it('deletes', async () => {
      const data = randomBytes(2 * 1024 * 1024 + 1);
      const { key } = await h.store.put(streamOf(data));
      expect(await h.store.delete(key)).toBe(true);
      expect(await h.store.stat(key)).toBeNull();
      await expect(h.store.open(key)).rejects.toBeInstanceOf(ArtifactNotFoundError);
      expect(await h.store.delete(key)).toBe(false);
      expect(await h.inventory()).toEqual({ stored: 0, residue: 0 });
      // And it can come back.
      expect((await h.store.put(streamOf(data))).created).toBe(true);
    });

    it.each(BAD_KEYS)('rejects the bad key %j on every method', async (key) => {
      await expect(h.store.open(key)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(h.store.stat(key)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(h.store.delete(key)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
      await expect(h.store.hash?.(key)).rejects.toBeInstanceOf(InvalidArtifactKeyError);
    });

    it('settles concurrent puts of the same content on one copy', async () => {
      const data = randomBytes(2 * 1024 * 1024 + 777);
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          h.store.put(i % 2 ? streamOf(data) : generatorOf(data)),
        ),
      );
      expect(new Set(results.map((r) => r.key))).toEqual(new Set([sha256(data)]));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(await h.copies(sha256(data))).toBe(1);
      expect(await h.inventory()).toEqual({ stored: 1, residue: 0 });
      expectBytes(await readAll(await h.store.open(sha256(data))), data);
    });

    it('keeps different contents apart under concurrency', async () => {
      const contents = Array.from({ length: 4 }, (_, i) => randomBytes(200_000 + i));
      const results = await Promise.all(contents.map((c) => h.store.put(streamOf(c))));
      expect(results.map((r) => r.key)).toEqual(contents.map(sha256));
      expect(await h.inventory()).toEqual({ stored: 4, residue: 0 });
      for (const c of contents) expectBytes(await readAll(await h.store.open(sha256(c))), c);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// fs driver

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

const fsRoots: string[] = [];
afterAll(async () => {
  await Promise.all(fsRoots.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function fsHarness(): Promise<StoreHarness & { store: FsArtifactStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sup-artifacts-'));
  fsRoots.push(root);
  const store = createArtifactStore({ driver: 'fs', dir: root }) as FsArtifactStore;
  return {
    store,
    root,
    copies: async (key) =>
      (await listFiles(join(root, 'sha256'))).filter((f) => f.endsWith(key)).length,
    inventory: async () => ({
      stored: (await listFiles(join(root, 'sha256'))).length,
      residue: (await listFiles(join(root, 'tmp'))).length,
    }),
  };
}

describeArtifactStore('fs', fsHarness);

describe('FsArtifactStore specifics', () => {
  it('lays files out as sha256/<2 hex>/<64 hex>', async () => {
    const h = await fsHarness();
    const data = Buffer.from('hello artifact');
    const { key } = await h.store.put(Readable.from([data]));
    expect(h.store.pathFor(key)).toBe(join(h.root, 'sha256', key.slice(0, 2), key));
    expect((await stat(h.store.pathFor(key))).size).toBe(data.length);
    expect(h.store.driver).toBe('fs');
  });

  it('stores bytes from memory again after its directories were removed', async () => {
    const h = await fsHarness();
    const first = await putBytes(h.store, Buffer.from('bytes'));
    await rm(join(h.root, 'sha256'), { recursive: true });
    await rm(join(h.root, 'tmp'), { recursive: true });
    expect(await putBytes(h.store, Buffer.from('bytes'))).toEqual({ ...first, created: true });
  });

  it('stores again after its directories were removed behind its back', async () => {
    const h = await fsHarness();
    const first = await h.store.put(Readable.from([Buffer.from('first')]));
    // It remembers the directories it made; removing them must not break the next put.
    await rm(join(h.root, 'sha256'), { recursive: true });
    await rm(join(h.root, 'tmp'), { recursive: true });
    const again = await h.store.put(Readable.from([Buffer.from('first')]));
    expect(again).toMatchObject({ key: first.key, created: true });
    expect((await stat(h.store.pathFor(first.key))).size).toBe(5);
  });

  it('never shows a half-written temp file under a key, and sweeps stale ones', async () => {
    const h = await fsHarness();
    const data = randomBytes(10_000);
    // What a put killed mid-write leaves: a partial temp file.
    await h.store.put(Readable.from([Buffer.from('x')]));
    const stale = join(h.root, 'tmp', 'dead-put.part');
    const fresh = join(h.root, 'tmp', 'live-put.part');
    await writeFile(stale, data.subarray(0, 5000));
    await writeFile(fresh, data.subarray(0, 5000));
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await utimes(stale, old, old);
    expect(await h.store.stat(sha256(data))).toBeNull();
    expect(await h.store.stat(sha256(data.subarray(0, 5000)))).toBeNull();
    expect(await h.store.sweepTemp(3600 * 1000)).toBe(1);
    expect(await readdir(join(h.root, 'tmp'))).toEqual(['live-put.part']);
  });

  it('hashes what is on disk, not what the key claims', async () => {
    const h = await fsHarness();
    const { key } = await h.store.put(Readable.from([randomBytes(70_000)]));
    const corrupted = randomBytes(70_001);
    await writeFile(h.store.pathFor(key), corrupted);
    await expect(h.store.hash(key)).resolves.toEqual({
      sha256: sha256(corrupted),
      size: corrupted.length,
    });
  });

  it('rejects a bad key in pathFor', async () => {
    const h = await fsHarness();
    expect(() => h.store.pathFor('../../../etc/passwd')).toThrow(InvalidArtifactKeyError);
  });
});

// ---------------------------------------------------------------------------------------------
// gridfs driver (FerretDB from the harness, or MONGODB_URI)

let mongo: RunningMongo | undefined;
let client: MongoClient | undefined;
let dbCounter = 0;
const runId = randomBytes(4).toString('hex');

async function database(): Promise<Db> {
  if (!client) {
    mongo = await useMongo();
    client = await MongoClient.connect(mongo.uri, { serverSelectionTimeoutMS: 20_000 });
  }
  dbCounter += 1;
  return client.db(`artifact_store_spec_${runId}_${dbCounter}`);
}

afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

async function gridFsHarness(): Promise<StoreHarness & { store: GridFsArtifactStore; db: Db }> {
  const db = await database();
  const bucketName = 'artifacts';
  const store = createArtifactStore({ driver: 'gridfs', db, bucketName }) as GridFsArtifactStore;
  const files = db.collection(`${bucketName}.files`);
  const chunks = db.collection(`${bucketName}.chunks`);
  return {
    store,
    db,
    copies: (key) => files.countDocuments({ filename: key }),
    inventory: async () => {
      const docs = await files.find({}, { projection: { filename: 1 } }).toArray();
      const ids = new Set(docs.map((d) => String(d._id)));
      const owners = (await chunks.distinct('files_id')) as unknown[];
      const stored = docs.filter((d) => /^[0-9a-f]{64}$/.test(String(d.filename))).length;
      return {
        stored,
        residue: docs.length - stored + owners.filter((o) => !ids.has(String(o))).length,
      };
    },
  };
}

describeArtifactStore('gridfs', gridFsHarness);

/** A unique ObjectId minted at `time` (createFromTime zeroes the rest, so two would collide). */
function oldObjectId(time: Date): ObjectId {
  const seconds = Math.floor(time.getTime() / 1000)
    .toString(16)
    .padStart(8, '0');
  return new ObjectId(seconds + randomBytes(8).toString('hex'));
}

describe('GridFsArtifactStore specifics', () => {
  it('names each file by its key and splits content into 1 MiB chunks', async () => {
    const h = await gridFsHarness();
    const data = randomBytes(2.5 * 1024 * 1024);
    const { key } = await h.store.put(streamOf(data));
    const doc = await h.db.collection('artifacts.files').findOne({ filename: key });
    expect(doc).toMatchObject({ length: data.length, chunkSize: 1024 * 1024 });
    expect(doc?.metadata).toBeUndefined();
    expect(await h.db.collection('artifacts.chunks').countDocuments({ files_id: doc?._id })).toBe(
      3,
    );
    expect(h.store.driver).toBe('gridfs');
  });

  it('keeps a unique index on filename', async () => {
    const h = await gridFsHarness();
    await h.store.put(Readable.from([Buffer.from('x')]));
    const indexes = await h.db.collection('artifacts.files').listIndexes().toArray();
    expect(indexes).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: { filename: 1 }, unique: true })]),
    );
    const doc = await h.db.collection('artifacts.files').findOne({});
    await expect(
      h.db.collection('artifacts.files').insertOne({ ...doc, _id: new ObjectId() }),
    ).rejects.toMatchObject({ code: 11000 });
  });

  it('settles a lost race for the name through the unique index', async () => {
    const h = await gridFsHarness();
    const data = randomBytes(100_000);
    const first = await h.store.put(Readable.from([data]));
    // Make the second put miss the "already stored?" check, as if both had checked at once.
    const files = (h.store as unknown as { files: { findOne: () => Promise<unknown> } }).files;
    const spy = jest.spyOn(files, 'findOne').mockResolvedValueOnce(null);
    const second = await h.store.put(Readable.from([data]));
    spy.mockRestore();
    expect(second).toEqual({ key: first.key, size: data.length, created: false });
    expect(await h.copies(first.key)).toBe(1);
    expect(await h.inventory()).toEqual({ stored: 1, residue: 0 });
  });

  it('uses a custom bucket name', async () => {
    const db = await database();
    const store = createArtifactStore({ driver: 'gridfs', db, bucketName: 'vendor' });
    const { key } = await store.put(Readable.from([Buffer.from('custom bucket')]));
    expect(await db.collection('vendor.files').countDocuments({ filename: key })).toBe(1);
    expect(await db.collection('artifacts.files').countDocuments()).toBe(0);
  });

  it('hides uploads in progress and sweeps what dead puts left', async () => {
    const h = await gridFsHarness();
    const files = h.db.collection('artifacts.files');
    const chunks = h.db.collection('artifacts.chunks');
    const { key } = await h.store.put(Readable.from([Buffer.from('keep me')]));
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    // A put that died after writing its files document but before naming it.
    const staleTempId = oldObjectId(old);
    await files.insertOne({
      _id: staleTempId,
      filename: `${GRIDFS_TEMP_PREFIX}dead`,
      length: 1,
      chunkSize: 1024 * 1024,
      uploadDate: old,
      metadata: { temporary: true },
    });
    await chunks.insertOne({ files_id: staleTempId, n: 0, data: Buffer.from('z') });
    // A put that died mid-upload: chunks with no files document.
    const orphanId = oldObjectId(old);
    await chunks.insertOne({ files_id: orphanId, n: 0, data: Buffer.from('half') });
    // A put in progress right now: recent, must survive.
    const liveId = new ObjectId();
    await chunks.insertOne({ files_id: liveId, n: 0, data: Buffer.from('live') });

    expect(await h.store.sweepTemp(3600 * 1000)).toBe(2);
    expect(await files.countDocuments({ _id: staleTempId })).toBe(0);
    expect(await chunks.countDocuments({ files_id: { $in: [staleTempId, orphanId] } })).toBe(0);
    expect(await chunks.countDocuments({ files_id: liveId })).toBe(1);
    expectBytes(await readAll(await h.store.open(key)), Buffer.from('keep me'));
  });
});

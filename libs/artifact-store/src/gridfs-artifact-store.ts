import { randomUUID } from 'node:crypto';
import { finished } from 'node:stream/promises';
import {
  GridFSBucket,
  ObjectId,
  type Collection,
  type Db,
  type GridFSBucketWriteStream,
  type GridFSChunk,
  type GridFSFile,
} from 'mongodb';
import { hashStream } from '@sup/integrity';
import {
  ArtifactNotFoundError,
  assertArtifactKey,
  type ArtifactHash,
  type ArtifactSource,
  type ArtifactStore,
  type PutOptions,
  type PutResult,
} from './artifact-store';
import { ingest, resolveMaxBytes } from './ingest';

/** Filenames of uploads in progress; can never collide with a key (64 hex). */
export const GRIDFS_TEMP_PREFIX = 'tmp-upload-';
export const DEFAULT_GRIDFS_CHUNK_BYTES = 1024 * 1024;
const FILENAME_INDEX = 'artifact_filename_unique';

export interface GridFsArtifactStoreOptions {
  chunkSizeBytes?: number;
}

function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

function writeChunk(upload: GridFSBucketWriteStream, chunk: Buffer): Promise<void> {
  // The callback fires once the chunk is buffered or, when it fills a GridFS chunk, inserted; so
  // awaiting it leaves no insert in flight when we stop.
  return new Promise((resolve, reject) => {
    upload.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Artifacts in a GridFS bucket, one file per content with `filename` = key. A put uploads under a
 * temporary filename while hashing, then renames the file to its key, or drops it when the key is
 * already stored. A unique index on `filename` settles concurrent puts of the same content.
 */
export class GridFsArtifactStore implements ArtifactStore {
  readonly driver = 'gridfs' as const;
  readonly bucketName: string;
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<GridFSFile>;
  private readonly chunks: Collection<GridFSChunk>;
  private indexes?: Promise<void>;

  constructor(db: Db, bucketName = 'artifacts', options: GridFsArtifactStoreOptions = {}) {
    this.bucketName = bucketName;
    this.bucket = new GridFSBucket(db, {
      bucketName,
      chunkSizeBytes: options.chunkSizeBytes ?? DEFAULT_GRIDFS_CHUNK_BYTES,
    });
    this.files = db.collection<GridFSFile>(`${bucketName}.files`);
    this.chunks = db.collection<GridFSChunk>(`${bucketName}.chunks`);
  }

  /** Creates the bucket's indexes once per instance (retried after a failure). */
  ensureIndexes(): Promise<void> {
    this.indexes ??= (async () => {
      try {
        await this.files.createIndex({ filename: 1 }, { unique: true, name: FILENAME_INDEX });
        await this.chunks.createIndex({ files_id: 1, n: 1 }, { unique: true });
      } catch (error) {
        this.indexes = undefined;
        throw new Error(
          `could not create the indexes of GridFS bucket "${this.bucketName}" ` +
            `(a unique index on ${this.bucketName}.files filename is required): ${String(error)}`,
          { cause: error },
        );
      }
    })();
    return this.indexes;
  }

  async put(source: ArtifactSource, opts: PutOptions = {}): Promise<PutResult> {
    const maxBytes = resolveMaxBytes(opts.maxBytes);
    await this.ensureIndexes();
    const upload = this.bucket.openUploadStream(`${GRIDFS_TEMP_PREFIX}${randomUUID()}`, {
      metadata: { temporary: true },
    });
    // Errors also reach the awaited write/finish; this only keeps an 'error' event from being unhandled.
    upload.on('error', () => undefined);
    const id = upload.id;
    try {
      const { key, size } = await ingest(source, maxBytes, (chunk) => writeChunk(upload, chunk));
      upload.end();
      await finished(upload);
      const created = await this.publish(id, key);
      return { key, size, created };
    } catch (error) {
      upload.destroy();
      await this.removeFile(id).catch(() => undefined);
      throw error;
    }
  }

  private async publish(id: ObjectId, key: string): Promise<boolean> {
    if (await this.files.findOne({ filename: key }, { projection: { _id: 1 } })) {
      await this.removeFile(id);
      return false;
    }
    try {
      const { matchedCount } = await this.files.updateOne(
        { _id: id },
        { $set: { filename: key }, $unset: { metadata: '' } },
      );
      if (matchedCount !== 1)
        throw new Error(`GridFS upload ${id.toHexString()} vanished before it was named`);
      return true;
    } catch (error) {
      // Another put of the same content won the race for the name. MongoDB says so with E11000;
      // FerretDB v1 reports a unique violation on update as a generic error (SQLite "UNIQUE
      // constraint failed"), so also look at who holds the name now.
      if (isDuplicateKey(error) || (await this.heldByOther(key, id))) {
        await this.removeFile(id);
        return false;
      }
      throw error;
    }
  }

  private async heldByOther(key: string, id: ObjectId): Promise<boolean> {
    const holder = await this.files.findOne({ filename: key }, { projection: { _id: 1 } });
    return holder !== null && !holder._id.equals(id);
  }

  /** Deletes a files document and its chunks; true when the files document existed. */
  private async removeFile(id: ObjectId): Promise<boolean> {
    const { deletedCount } = await this.files.deleteOne({ _id: id });
    await this.chunks.deleteMany({ files_id: id });
    return deletedCount > 0;
  }

  async open(key: string): Promise<NodeJS.ReadableStream> {
    assertArtifactKey(key);
    const doc = await this.files.findOne({ filename: key }, { sort: { uploadDate: -1 } });
    if (!doc) throw new ArtifactNotFoundError(key);
    return this.bucket.openDownloadStream(doc._id);
  }

  /** GridFS has no faster way to the bytes than its download stream. */
  async hash(key: string): Promise<ArtifactHash> {
    return hashStream(await this.open(key));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    assertArtifactKey(key);
    const doc = await this.files.findOne({ filename: key }, { projection: { length: 1 } });
    return doc ? { size: doc.length } : null;
  }

  async delete(key: string): Promise<boolean> {
    assertArtifactKey(key);
    const docs = await this.files.find({ filename: key }, { projection: { _id: 1 } }).toArray();
    let deleted = false;
    for (const doc of docs) {
      if (await this.removeFile(doc._id)) deleted = true;
    }
    return deleted;
  }

  /**
   * Removes what puts that died left behind, if older than `olderThanMs`: temporary files
   * documents, and chunks whose files document was never written. Returns how many files (temp
   * documents plus orphaned chunk sets) were removed.
   */
  async sweepTemp(olderThanMs = 24 * 60 * 60 * 1000): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    let removed = 0;
    const temps = await this.files
      .find(
        { filename: { $regex: `^${GRIDFS_TEMP_PREFIX}` }, uploadDate: { $lt: cutoff } },
        { projection: { _id: 1 } },
      )
      .toArray();
    for (const doc of temps) {
      if (await this.removeFile(doc._id)) removed += 1;
    }
    // An upload's id is an ObjectId minted when it starts, so its age is known even without a files document.
    const chunkOwners = (await this.chunks.distinct('files_id')) as unknown[];
    const oldOwners = chunkOwners.filter(
      (owner): owner is ObjectId => owner instanceof ObjectId && owner.getTimestamp() < cutoff,
    );
    if (oldOwners.length > 0) {
      const known = await this.files
        .find({ _id: { $in: oldOwners } }, { projection: { _id: 1 } })
        .toArray();
      const knownIds = new Set(known.map((d) => d._id.toHexString()));
      const orphans = oldOwners.filter((owner) => !knownIds.has(owner.toHexString()));
      if (orphans.length > 0) {
        await this.chunks.deleteMany({ files_id: { $in: orphans } });
        removed += orphans.length;
      }
    }
    return removed;
  }
}

import {
  FEED_INDEX_FILE,
  FEED_INDEX_SIGNATURE_FILE,
  RelativePathSchema,
  type FeedIndex,
} from '@sup/contracts';
import { HttpStatus } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IndexRefusal } from '../trust/signed-index';
import { ByteLimit } from './byte-limit';
import { archiveName, type BundleFile, type BundleSource } from './bundle-source';
import {
  badBundle,
  ImportRefusal,
  tooLarge,
  unacceptable,
  type ImportRefusalCode,
} from './import-refusal';
import { indexTargets, labelOf, type IndexTarget, type IndexTargets } from './index-targets';

export interface IntakeLimits {
  /** Cap per artifact, whatever the index signs (IMPORT_MAX_FILE_BYTES). */
  maxFileBytes: number;
  /** Cap on the bytes of all files together (IMPORT_MAX_BUNDLE_BYTES). */
  maxBundleBytes: number;
  indexMaxBytes: number;
  indexSignatureMaxBytes: number;
  /** Cap per artifact signature (a detached CMS is a few KiB). */
  signatureMaxBytes: number;
}

/** A verified signed index: the parsed document and the SHA-256 of its signed bytes. */
export interface VerifiedIndex {
  index: FeedIndex;
  digest: string;
}

/**
 * The one index verifier (signature over raw bytes, then schema, freshness and rollback); its
 * IndexRefusal becomes a 422 naming the rule.
 */
export type VerifyIndex = (files: {
  indexBytes: Buffer;
  signatureBytes: Buffer;
}) => Promise<VerifiedIndex>;

/** A file written to the temp directory, with what was measured while it streamed in. */
export interface ReceivedFile {
  path: string;
  tempPath: string;
  size: number;
  sha256: string;
}

export interface ReceivedBundle {
  verified: VerifiedIndex;
  targets: IndexTargets;
  files: Map<string, ReceivedFile>;
}

export interface IntakeOptions {
  /** Where files are written (under DATA_DIR); the caller removes it, whatever happens. */
  tempDir: string;
  limits: IntakeLimits;
  verifyIndex: VerifyIndex;
}

type HeadFile = typeof FEED_INDEX_FILE | typeof FEED_INDEX_SIGNATURE_FILE;
const isHead = (path: string): path is HeadFile =>
  path === FEED_INDEX_FILE || path === FEED_INDEX_SIGNATURE_FILE;

/**
 * Reads a bundle in order. `index.json` and `index.json.p7s` come first and are verified before
 * any other byte is read; every later file must be named by that verified index, is cut off as
 * soon as it passes its signed size (or the signature cap), and an artifact whose SHA-256 or size
 * differs from the signed values is refused before the next file is read. Throws ImportRefusal
 * for anything the client sent wrong; nothing is recorded here.
 */
export async function receiveBundle(
  source: BundleSource,
  { tempDir, limits, verifyIndex }: IntakeOptions,
): Promise<ReceivedBundle> {
  const head: Partial<Record<HeadFile, Buffer>> = {};
  let verified: VerifiedIndex | undefined;
  let targets: IndexTargets | undefined;
  const files = new Map<string, ReceivedFile>();
  let total = 0;
  const budget = (own: number): Budget => {
    const left = limits.maxBundleBytes - total;
    return left < own
      ? {
          max: left,
          code: 'bundle-too-large',
          why: `${limits.maxBundleBytes} bytes (IMPORT_MAX_BUNDLE_BYTES)`,
        }
      : { max: own, code: 'too-large', why: `${own} bytes` };
  };

  for await (const file of source) {
    const path = bundlePath(file.name);
    if (!targets) {
      if (!isHead(path)) {
        throw badBundle(
          'index-first',
          `${path} came before index.json and index.json.p7s: a bundle starts with them, and no other file is read before they verify`,
        );
      }
      if (head[path]) throw badBundle('duplicate-file', `${path} appears twice in the bundle`);
      const own = path === FEED_INDEX_FILE ? limits.indexMaxBytes : limits.indexSignatureMaxBytes;
      head[path] = await readSmall(file, path, budget(own));
      total += head[path].length;
      const { [FEED_INDEX_FILE]: indexBytes, [FEED_INDEX_SIGNATURE_FILE]: signatureBytes } = head;
      if (indexBytes && signatureBytes) {
        verified = await verifyIndex({ indexBytes, signatureBytes }).catch((error: unknown) => {
          if (!(error instanceof IndexRefusal)) throw error;
          throw unacceptable('index-refused', `the signed index is refused: ${error.message}`);
        });
        targets = indexTargets(verified.index);
      }
      continue;
    }
    if (isHead(path) || files.has(path)) {
      throw badBundle('duplicate-file', `${path} appears twice in the bundle`);
    }
    const target = targets.byPath.get(path);
    const received = await receiveFile(file, path, target, tempDir, limits, budget);
    total += received.size;
    files.set(path, received);
  }
  if (!verified || !targets) {
    throw badBundle(
      'index-missing',
      'a bundle needs index.json and index.json.p7s (the signed index) before its files',
    );
  }
  return { verified, targets, files };
}

interface Budget {
  max: number;
  code: ImportRefusalCode;
  why: string;
}

/** The path a file claims, refused when it could point outside the bundle. */
function bundlePath(name: string): string {
  const path = archiveName(name);
  if (!RelativePathSchema.safeParse(path).success) {
    throw badBundle(
      'path-escape',
      `${JSON.stringify(name.slice(0, 200))} is not a relative path inside the bundle (no "..", "/" prefix, backslash or empty segment)`,
    );
  }
  return path;
}

async function receiveFile(
  file: BundleFile,
  path: string,
  target: IndexTarget | undefined,
  tempDir: string,
  limits: IntakeLimits,
  budget: (own: number) => Budget,
): Promise<ReceivedFile> {
  if (!target) {
    throw badBundle('not-in-index', `${path} is not named by the signed index.json`);
  }
  if (target.role === 'invalid') {
    throw unacceptable(
      'invalid-entry',
      `${path} belongs to an entry the index lists but that is refused: ${target.reason}`,
    );
  }
  const signed = target.role === 'artifact' ? target.entry.entry.artifact : undefined;
  if (signed && signed.size > limits.maxFileBytes) {
    throw tooLarge(
      'too-large',
      `${path} is signed as ${signed.size} bytes, over the limit of ${limits.maxFileBytes} (IMPORT_MAX_FILE_BYTES)`,
    );
  }
  const limit = budget(signed ? signed.size : limits.signatureMaxBytes);
  if (file.declaredSize !== undefined && file.declaredSize > limit.max) {
    throw tooLarge(
      limit.code,
      `${path} is ${file.declaredSize} bytes, over the limit of ${limit.why}`,
    );
  }
  const counter = new ByteLimit(
    limit.max,
    () => tooLarge(limit.code, `${path} is larger than ${limit.why}; the upload was cut off`),
    { hash: true },
  );
  const tempPath = join(tempDir, randomUUID());
  await copy(file.stream, counter, createWriteStream(tempPath, { flags: 'wx' }));
  const received = { path, tempPath, size: counter.bytes, sha256: counter.sha256() };
  if (signed) {
    const what = `${path} (${labelOf(target.entry)})`;
    if (received.size !== signed.size) {
      throw unacceptable(
        'size-mismatch',
        `${what} is ${received.size} bytes; the index signs ${signed.size}`,
      );
    }
    if (received.sha256 !== signed.sha256) {
      throw unacceptable(
        'sha256-mismatch',
        `${what} does not have the SHA-256 the index signs; nothing was recorded`,
      );
    }
  }
  return received;
}

async function readSmall(file: BundleFile, path: string, limit: Budget): Promise<Buffer> {
  if (file.declaredSize !== undefined && file.declaredSize > limit.max) {
    throw tooLarge(
      limit.code,
      `${path} is ${file.declaredSize} bytes, over the limit of ${limit.why}`,
    );
  }
  const counter = new ByteLimit(limit.max, () =>
    tooLarge(limit.code, `${path} is larger than ${limit.why}; the upload was cut off`),
  );
  const chunks: Buffer[] = [];
  await copy(
    file.stream,
    counter,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(chunks);
}

/** Copies one file; a disk that fills up is the server's problem (507), not the client's. */
async function copy(from: Readable, counter: ByteLimit, to: Writable): Promise<void> {
  try {
    await pipeline(from, counter, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new ImportRefusal(
        HttpStatus.INSUFFICIENT_STORAGE,
        'insufficient-storage',
        'the upload directory ran out of space; nothing was recorded',
      );
    }
    throw error;
  }
}

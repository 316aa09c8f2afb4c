import { Readable } from 'node:stream';
import { hashStream } from '@sup/integrity';

/** Where a store keeps its bytes. */
export type ArtifactStoreDriver = 'fs' | 'gridfs';

/** Anything `put` can read from: a Node stream or any async iterable of byte chunks. */
export type ArtifactSource = NodeJS.ReadableStream | AsyncIterable<Buffer>;

export interface PutOptions {
  /** Refuse (and store nothing) once more than this many bytes have arrived. */
  maxBytes?: number;
}

export interface PutResult {
  /** SHA-256 of the bytes, 64 lower-case hex characters. */
  key: string;
  size: number;
  /** false when the store already held this content (nothing new was written). */
  created: boolean;
}

/** SHA-256 and size of stored bytes, as measured by reading them back. */
export interface ArtifactHash {
  /** 64 lower-case hex characters. */
  sha256: string;
  size: number;
}

/**
 * Content-addressed store of update artifacts, keyed by the SHA-256 (lower hex) of the bytes.
 * Each content is stored once; a key only ever names complete, hashed bytes.
 */
export interface ArtifactStore {
  readonly driver: ArtifactStoreDriver;
  /**
   * Streams `source` in while hashing it; stores once per content. Exceeding `maxBytes` aborts,
   * leaves nothing behind and throws {@link ArtifactTooLargeError}. An error from `source` is
   * rethrown as is, with nothing stored.
   */
  put(source: ArtifactSource, opts?: PutOptions): Promise<PutResult>;
  /** The bytes under `key`; {@link ArtifactNotFoundError} when missing. */
  open(key: string): Promise<NodeJS.ReadableStream>;
  /**
   * Reads the bytes under `key` back and hashes them (the key itself is not trusted), faster than
   * hashing {@link open}'s stream where the driver can. Optional so other implementations stay
   * valid; call {@link hashArtifact}, which falls back to the stream.
   */
  hash?(key: string): Promise<ArtifactHash>;
  /**
   * Stores bytes already in memory (a signature, a small rule update) through the driver's
   * cheapest path. Optional; call {@link putBytes}, which falls back to {@link put}.
   */
  putBytes?(bytes: Buffer): Promise<PutResult>;
  stat(key: string): Promise<{ size: number } | null>;
  /** true when something was deleted. */
  delete(key: string): Promise<boolean>;
}

/** Stores `bytes` (already in memory) through the store's cheapest write path. */
export async function putBytes(store: ArtifactStore, bytes: Buffer): Promise<PutResult> {
  if (store.putBytes) return store.putBytes(bytes);
  return store.put(Readable.from([bytes]));
}

/** SHA-256 and size of what is stored under `key`, through the store's fastest read path. */
export async function hashArtifact(store: ArtifactStore, key: string): Promise<ArtifactHash> {
  return store.hash ? store.hash(key) : hashStream(await store.open(key));
}

export class ArtifactTooLargeError extends Error {
  override readonly name = 'ArtifactTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`artifact is larger than the limit of ${maxBytes} bytes; nothing was stored`);
  }
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
  constructor(readonly key: string) {
    super(`artifact ${key} is not in the store`);
  }
}

/** A key that is not 64 lower-case hex characters (it never reaches a path or a query). */
export class InvalidArtifactKeyError extends Error {
  override readonly name = 'InvalidArtifactKeyError';
  constructor(readonly key: unknown) {
    super(`invalid artifact key ${describe(key)}: must be 64 lower-case hex characters (SHA-256)`);
  }
}

const KEY_PATTERN = /^[0-9a-f]{64}$/;

export function isArtifactKey(key: unknown): key is string {
  return typeof key === 'string' && KEY_PATTERN.test(key);
}

export function assertArtifactKey(key: unknown): asserts key is string {
  if (!isArtifactKey(key)) throw new InvalidArtifactKeyError(key);
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}

import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through, counting (and optionally hashing) them, and fails the stream with
 * `tooLarge()` on the chunk that crosses `maxBytes`: an upload is cut off at once, never read to
 * its end to find out it was too big.
 */
export class ByteLimit extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: () => Error,
    options: { hash?: boolean } = {},
  ) {
    super();
    this.hash = options.hash ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(this.tooLarge());
      return;
    }
    this.hash?.update(chunk);
    done(null, chunk);
  }

  /** Hex SHA-256 of everything passed; only with `{ hash: true }`, once the stream has ended. */
  sha256(): string {
    if (!this.hash) throw new Error('ByteLimit was created without { hash: true }');
    return this.hash.digest('hex');
  }
}

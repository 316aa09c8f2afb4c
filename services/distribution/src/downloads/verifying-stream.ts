import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Expected {
  sha256: string;
  size: number;
}

export class StoredBytesMismatch extends Error {
  override readonly name = 'StoredBytesMismatch';
  constructor(
    readonly expected: Expected,
    readonly computedSha256: string | undefined,
    readonly computedSize: number,
  ) {
    super(
      `stored bytes do not match: expected ${expected.size} bytes with SHA-256 ${expected.sha256}, ` +
        `read ${computedSize} bytes${computedSha256 ? ` with SHA-256 ${computedSha256}` : ' (more than recorded)'}`,
    );
  }
}

/**
 * Passes a whole file through while hashing it, and always holds back the latest chunk: the last
 * bytes leave only after the digest and size matched, so a client of a corrupted file sees a
 * truncated body (Content-Length is never met), never a complete but wrong one. Memory: one chunk.
 */
export class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | undefined;
  private seen = 0;

  constructor(private readonly expected: Expected) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.expected.size) {
      done(new StoredBytesMismatch(this.expected, undefined, this.seen));
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    const sha256 = this.hash.digest('hex');
    if (sha256 !== this.expected.sha256 || this.seen !== this.expected.size) {
      done(new StoredBytesMismatch(this.expected, sha256, this.seen));
      return;
    }
    done(null, this.held);
  }
}

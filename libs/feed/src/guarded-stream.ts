import { Readable } from 'node:stream';
import { FeedError } from './feed-error';

/** A pull-based byte source: `read` resolves null at the end; `close` releases it (idempotent). */
export interface ByteSource {
  read(): Promise<Buffer | null>;
  close(): Promise<void>;
}

export interface GuardOptions {
  url: string;
  /** Error as soon as more than this many bytes have arrived. */
  maxBytes: number;
  /** Appended to the too-large message, e.g. "the feed's hard maximum". */
  limitNote?: string;
  /** Error when the source gives nothing for this long while we wait on it. */
  idleMs: number;
  /** Turns a source failure into a FeedError. */
  mapError(error: unknown): FeedError;
}

export function tooLargeError(
  url: string,
  maxBytes: number,
  note?: string,
  what = 'is',
): FeedError {
  return new FeedError(
    'too-large',
    url,
    `${url} ${what} larger than the limit of ${maxBytes} bytes${note ? ` (${note})` : ''}; download refused`,
  );
}

/**
 * Streams a ByteSource, pulling only when the consumer wants data (so a slow consumer never
 * looks like a stalled server), counting bytes, and timing each wait on the source.
 */
export class GuardedStream extends Readable {
  private received = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly options: GuardOptions,
  ) {
    super();
  }

  override _read(): void {
    // Node calls _read again only after a push, so there is never more than one read in flight.
    this.timer = setTimeout(() => {
      this.destroy(
        new FeedError(
          'timeout',
          this.options.url,
          `${this.options.url} sent no data for ${this.options.idleMs} ms; download abandoned`,
        ),
      );
    }, this.options.idleMs);
    this.nextChunk().then(
      (chunk) => {
        this.clearTimer();
        if (this.destroyed) return;
        if (chunk === null) {
          this.push(null);
          return;
        }
        this.received += chunk.length;
        if (this.received > this.options.maxBytes) {
          this.destroy(
            tooLargeError(this.options.url, this.options.maxBytes, this.options.limitNote),
          );
          return;
        }
        this.push(chunk);
      },
      (error: unknown) => {
        this.clearTimer();
        if (this.destroyed) return;
        this.destroy(error instanceof FeedError ? error : this.options.mapError(error));
      },
    );
  }

  private async nextChunk(): Promise<Buffer | null> {
    for (;;) {
      const chunk = await this.source.read();
      if (chunk === null || chunk.length > 0) return chunk;
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearTimer();
    this.source.close().then(
      () => callback(error),
      () => callback(error),
    );
  }
}

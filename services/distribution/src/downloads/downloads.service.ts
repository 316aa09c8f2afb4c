import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ArtifactNotFoundError, FsArtifactStore, type ArtifactStore } from '@sup/artifact-store';
import { SUBJECTS } from '@sup/contracts';
import { parseByteRange, type ByteRange } from '@sup/domain';
import { ARTIFACT_STORE, decision, Outbox } from '@sup/service-kit';
import { PublishedUpdates } from '../relays/published-updates';
import { RelaysRepository } from '../relays/relays.repository';
import { StoredBytesMismatch, VerifyingStream } from './verifying-stream';

export type Which = 'artifact' | 'signature';

export interface Download {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  /** The bytes to send (absent for 416). */
  body?: NodeJS.ReadableStream;
  /** Only whole-file reads are verified: a range cannot be checked against the file's digest. */
  verifier?: VerifyingStream;
  updateId: string;
}

/**
 * Downloads of published updates for relays (and operators), straight from the artifact store:
 * streamed with backpressure, never buffered whole. A whole-file read is re-hashed on its way
 * out; stored bytes that no longer match withdraw the update (insert-once mark, then
 * `updates.v1.withdrawn.<id>` through the outbox, published once per update by its subject).
 */
@Injectable()
export class DownloadsService {
  private readonly logger = new Logger(DownloadsService.name);

  constructor(
    private readonly published: PublishedUpdates,
    private readonly repository: RelaysRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(Outbox) private readonly outbox: Outbox,
  ) {}

  async open(
    updateId: string,
    which: Which,
    range: string | undefined,
    ifRange: string | undefined,
  ): Promise<Download> {
    const found = await this.published.get(updateId);
    if (!found)
      throw new NotFoundException({
        message: `no published update ${updateId}`,
        code: 'not-found',
      });
    if (found.withdrawn)
      throw new NotFoundException({
        message: `update ${updateId} was withdrawn`,
        code: 'withdrawn',
      });
    const { update } = found;
    const key = which === 'artifact' ? update.artifactKey : update.signatureKey;
    const sha256 = which === 'artifact' ? update.sha256 : update.signatureKey;
    const size = which === 'artifact' ? update.size : (await this.store.stat(key))?.size;
    if (size === undefined) throw this.missing(updateId, which, key);
    const etag = `"${sha256}"`;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag,
      'x-sup-sha256': sha256,
      'cache-control': 'no-cache',
    };
    // If-Range naming another version of the file: send it whole (RFC 9110 §13.1.5).
    const wanted: ByteRange =
      ifRange !== undefined && ifRange !== etag ? { kind: 'full' } : parseByteRange(range, size);
    if (wanted.kind === 'unsatisfiable') {
      return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}` }, updateId };
    }
    try {
      if (wanted.kind === 'partial') {
        return {
          status: 206,
          headers: {
            ...headers,
            'content-length': String(wanted.end - wanted.start + 1),
            'content-range': `bytes ${wanted.start}-${wanted.end}/${size}`,
          },
          body: await this.openRange(key, wanted.start, wanted.end),
          updateId,
        };
      }
      return {
        status: 200,
        headers: { ...headers, 'content-length': String(size) },
        body: await this.store.open(key),
        verifier: new VerifyingStream({ sha256, size }),
        updateId,
      };
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) throw this.missing(updateId, which, key);
      throw error;
    }
  }

  /**
   * Called when a verified read failed its check: withdraw the update, once. Never throws (the
   * response is already cut); a failure is logged and the next whole read tries again.
   */
  async withdraw(updateId: string, which: Which, mismatch: StoredBytesMismatch): Promise<void> {
    try {
      await this.withdrawOnce(updateId, which, mismatch);
    } catch (error) {
      this.logger.error(
        { updateId, err: String(error) },
        'withdrawal not recorded; retried on the next read',
      );
    }
  }

  private async withdrawOnce(
    updateId: string,
    which: Which,
    mismatch: StoredBytesMismatch,
  ): Promise<void> {
    const reason = `the stored ${which} of ${updateId} no longer matches: ${mismatch.message}`;
    this.logger.error({ updateId, which, err: mismatch.message }, 'withdrawing a published update');
    const withdrawnAt = new Date();
    await this.repository.markWithdrawn({
      _id: updateId,
      code: 'stored-digest-mismatch',
      reason,
      at: withdrawnAt,
    });
    this.published.invalidate();
    await this.outbox.announce([
      decision(SUBJECTS.withdrawn, updateId, {
        updateId,
        code: 'stored-digest-mismatch',
        reason,
        expectedSha256: mismatch.expected.sha256,
        ...(mismatch.computedSha256 ? { computedSha256: mismatch.computedSha256 } : {}),
        withdrawnAt: withdrawnAt.toISOString(),
      }),
    ]);
  }

  private missing(updateId: string, which: Which, key: string): NotFoundException {
    this.logger.error(
      { updateId, which, key },
      'a published update has no bytes in the artifact store',
    );
    return new NotFoundException({
      message: `the ${which} of ${updateId} is missing from the artifact store`,
      code: 'missing-bytes',
    });
  }

  /** A byte range: read from the offset on a file store; skipped through on other stores. */
  private async openRange(key: string, start: number, end: number): Promise<NodeJS.ReadableStream> {
    if (this.store instanceof FsArtifactStore) {
      const path = this.store.pathFor(key);
      if (!(await this.store.stat(key))) throw new ArtifactNotFoundError(key);
      // Reads of up to 1 MiB, no bigger than the range (each read allocates its full size).
      const highWaterMark = Math.max(1, Math.min(1024 * 1024, end - start + 1));
      return createReadStream(path, { start, end, highWaterMark });
    }
    const source = await this.store.open(key);
    let offset = 0;
    const slice = new Transform({
      transform(chunk: Buffer, _enc, done) {
        const from = Math.max(start - offset, 0);
        const to = Math.min(end + 1 - offset, chunk.length);
        offset += chunk.length;
        done(null, from < to ? chunk.subarray(from, to) : undefined);
      },
    });
    return Readable.from(source as AsyncIterable<Buffer>).pipe(slice);
  }
}

import type { RelayFailureCodeSchema } from '@sup/contracts';
import { CmsVerificationError, hashFile, type TrustStore } from '@sup/integrity';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { CachedEntry, ContentCache } from './content-cache';
import type { ControlPlaneClient, ControlPlaneEntry } from './control-plane.client';
import { DownloadError, downloadResumable } from './resumable-download';

export type RelayFailureCode = z.infer<typeof RelayFailureCodeSchema>;

/** The update cannot be kept: nothing of it stays, and the code is reported to the control plane. */
export class RelayRefusal extends Error {
  constructor(
    readonly code: RelayFailureCode,
    message: string,
  ) {
    super(message);
    this.name = 'RelayRefusal';
  }
}

/** A detached CMS signature is a few KiB; more is not a signature. */
const SIGNATURE_MAX_BYTES = 1024 * 1024;

/**
 * Gets an update into the cache: download (resumed), size and SHA-256 of the whole file against
 * the published values, the CMS signature against this relay's own trust anchors, room made by
 * the eviction policy, then the move into the cache. One download per digest at a time: the
 * durable consumer and agents asking for the same file share it.
 */
export class Replicator {
  private readonly inFlight = new Map<string, Promise<CachedEntry>>();

  constructor(
    private readonly cache: ContentCache,
    private readonly controlPlane: ControlPlaneClient,
    private readonly trust: () => TrustStore,
    private readonly logger: Logger,
    private readonly downloadTimeoutMs: number,
    private readonly downloadIdleMs?: number,
  ) {}

  ensure(entry: ControlPlaneEntry, required: ReadonlySet<string>): Promise<CachedEntry> {
    const held = this.cache.get(entry.sha256);
    if (held) return Promise.resolve(held);
    let pending = this.inFlight.get(entry.sha256);
    if (!pending) {
      pending = this.fetchAndVerify(entry, required).finally(() =>
        this.inFlight.delete(entry.sha256),
      );
      this.inFlight.set(entry.sha256, pending);
    }
    return pending;
  }

  private async fetchAndVerify(
    entry: ControlPlaneEntry,
    required: ReadonlySet<string>,
  ): Promise<CachedEntry> {
    const part = this.cache.partPath(entry.sha256);
    const headers = { authorization: this.controlPlane.authorization };
    let outcome;
    try {
      outcome = await downloadResumable({
        url: this.controlPlane.url(entry.artifactPath),
        headers,
        partFile: part,
        expectedSize: entry.size,
        timeoutMs: this.downloadTimeoutMs,
        idleTimeoutMs: this.downloadIdleMs,
      });
    } catch (error) {
      if (error instanceof DownloadError && error.failure === 'size-mismatch')
        throw new RelayRefusal('size-mismatch', error.message);
      throw error;
    }
    const signature = await this.fetchSignature(entry);
    const digest = await hashFile(part);
    const refuse = async (code: RelayFailureCode, reason: string): Promise<never> => {
      await rm(part, { force: true });
      throw new RelayRefusal(code, reason);
    };
    if (digest.size !== entry.size)
      return refuse('size-mismatch', `${digest.size} bytes, ${entry.size} published`);
    if (digest.sha256 !== entry.sha256)
      return refuse('digest-mismatch', `SHA-256 ${digest.sha256}, ${entry.sha256} published`);
    try {
      await this.trust().verify({ signature, content: () => createReadStream(part) });
    } catch (error) {
      if (!(error instanceof CmsVerificationError)) throw error;
      return refuse('signature-invalid', `${error.code}: ${error.message}`);
    }
    const incoming = entry.size + signature.length;
    if (!(await this.cache.makeRoom(incoming, required)))
      return refuse('cache-full', `${incoming} bytes do not fit in RELAY_CACHE_MAX_BYTES`);
    const sigFile = `${part}.p7s`;
    await writeFile(sigFile, signature);
    const stored = await this.cache.put(
      {
        sha256: entry.sha256,
        size: entry.size,
        signatureSha256: createHash('sha256').update(signature).digest('hex'),
        signatureSize: signature.length,
        entry,
      },
      part,
      sigFile,
    );
    this.logger.info(
      {
        updateId: entry.updateId,
        correlationId: entry.updateId,
        sha256: entry.sha256,
        resumedFrom: outcome.resumedFrom,
        fetched: outcome.fetched,
      },
      'update verified and cached',
    );
    return stored;
  }

  private async fetchSignature(entry: ControlPlaneEntry): Promise<Buffer> {
    let res: Response;
    try {
      res = await fetch(this.controlPlane.url(entry.signaturePath), {
        headers: { authorization: this.controlPlane.authorization },
        signal: AbortSignal.timeout(this.downloadTimeoutMs),
      });
    } catch (error) {
      throw new DownloadError('transient', `signature of ${entry.updateId}: ${String(error)}`);
    }
    if (res.status === 404 || res.status === 410)
      throw new DownloadError('not-offered', `signature of ${entry.updateId}: ${res.status}`);
    if (!res.ok)
      throw new DownloadError('transient', `signature of ${entry.updateId}: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > SIGNATURE_MAX_BYTES)
      throw new RelayRefusal(
        'signature-invalid',
        `signature larger than ${SIGNATURE_MAX_BYTES} bytes`,
      );
    return body;
  }
}

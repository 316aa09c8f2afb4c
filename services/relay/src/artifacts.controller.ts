import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { parseByteRange } from '@sup/domain';
import { hashFile } from '@sup/integrity';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CachedEntry } from './content-cache';
import { RelayService } from './relay.service';

const NAME = /^([0-9a-f]{64})(\.p7s)?$/;

/**
 * Bytes for agents: `GET /v1/artifacts/{sha256}` (the update) and `/v1/artifacts/{sha256}.p7s`
 * (its detached CMS signature), with Range, a strong ETag (the digest) and `X-Sup-Sha256`. A
 * file not held yet but offered by the group catalog is fetched, verified and then served.
 */
@Controller('v1/artifacts')
@Roles('agent', 'viewer')
export class ArtifactsController {
  constructor(@Inject(RelayService) private readonly relay: RelayService) {}

  @Get(':name')
  async get(@Param('name') name: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const m = NAME.exec(name);
    if (!m) throw new NotFoundException({ code: 'not-found', message: 'no such artifact' });
    const cached = await this.relay.fetchForAgent(m[1]);
    if (!cached) throw new NotFoundException({ code: 'not-found', message: 'not offered here' });
    this.relay.cache.touch(cached.sha256);
    if (m[2]) return this.sendSignature(cached, res);
    return this.sendArtifact(cached, req, res);
  }

  private async sendSignature(cached: CachedEntry, res: Response): Promise<void> {
    res.status(200).set({
      'content-type': 'application/pkcs7-signature',
      'content-length': String(cached.signatureSize),
      etag: `"${cached.signatureSha256}"`,
      'x-sup-sha256': cached.signatureSha256,
    });
    await pipeline(createReadStream(this.relay.cache.signaturePath(cached.sha256)), res);
  }

  private async sendArtifact(cached: CachedEntry, req: Request, res: Response): Promise<void> {
    const path = this.relay.cache.artifactPath(cached.sha256);
    const range = parseByteRange(req.headers.range, cached.size);
    res.set({
      'accept-ranges': 'bytes',
      etag: `"${cached.sha256}"`,
      'x-sup-sha256': cached.sha256,
      'content-type': 'application/octet-stream',
    });
    if (range.kind === 'unsatisfiable') {
      res.status(416).set('content-range', `bytes */${cached.size}`).end();
      return;
    }
    if (range.kind === 'partial') {
      // A range cannot be checked on its own: the whole file is, unless it has not changed since
      // its digest last matched.
      if (!(await this.relay.cache.isVerified(cached.sha256))) {
        const digest = await hashFile(path).catch(() => undefined);
        if (digest?.sha256 !== cached.sha256) {
          await this.relay.corrupted(cached, digest?.sha256 ?? 'unreadable');
          res.status(503).set('retry-after', '5').json({ code: 'refetching' });
          return;
        }
        await this.relay.cache.markVerified(cached.sha256);
      }
      res.status(206).set({
        'content-range': `bytes ${range.start}-${range.end}/${cached.size}`,
        'content-length': String(range.end - range.start + 1),
      });
      await pipeline(createReadStream(path, { start: range.start, end: range.end }), res);
      return;
    }
    res.status(200).set('content-length', String(cached.size));
    let computed = '';
    try {
      await pipeline(
        createReadStream(path),
        verifyingLastChunk(cached, (c) => (computed = c)),
        res,
      );
    } catch (error) {
      // A mismatch aborts before the last chunk: the client sees a truncated response.
      if (computed) {
        res.destroy();
        await this.relay.corrupted(cached, computed);
        return;
      }
      res.destroy(error instanceof Error ? error : undefined);
    }
  }
}

/**
 * Passes bytes through one chunk behind, hashing them; the last chunk goes out only if the whole
 * file hashes to the expected digest and has the expected size, so bytes that changed on disk are
 * never served whole.
 */
function verifyingLastChunk(
  cached: CachedEntry,
  onMismatch: (computed: string) => void,
): Transform {
  const hash = createHash('sha256');
  let size = 0;
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      const out = held;
      held = chunk;
      done(null, out);
    },
    flush(done) {
      const digest = hash.digest('hex');
      if (digest !== cached.sha256 || size !== cached.size) {
        onMismatch(digest);
        done(new Error(`served bytes hash to ${digest}`));
        return;
      }
      done(null, held);
    },
  });
}

import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { UpdateIdSchema } from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { DownloadsService, type Which } from './downloads.service';
import { StoredBytesMismatch } from './verifying-stream';

/**
 * `GET /v1/updates/{id}/artifact` and `/signature`: bytes of published updates for relays, and for
 * agents when none of their relays answers (the control plane is their fallback source, as the
 * reference product's manager is).
 */
@Controller('v1/updates')
@Roles('agent', 'relay', 'operator')
export class DownloadsController {
  constructor(private readonly downloads: DownloadsService) {}

  @Get(':id/artifact')
  artifact(
    @Param('id') id: string,
    @Headers('range') range: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    return this.send(id, 'artifact', range, ifRange, res);
  }

  @Get(':id/signature')
  signature(
    @Param('id') id: string,
    @Headers('range') range: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    return this.send(id, 'signature', range, ifRange, res);
  }

  private async send(
    id: string,
    which: Which,
    range: string | undefined,
    ifRange: string | undefined,
    res: Response,
  ): Promise<void> {
    const updateId = parseRequest(UpdateIdSchema, id, 'update id');
    const download = await this.downloads.open(updateId, which, range, ifRange);
    res.status(download.status).set(download.headers);
    if (!download.body) {
      res.end();
      return;
    }
    try {
      if (download.verifier) await pipeline(download.body, download.verifier, res);
      else await pipeline(download.body, res);
    } catch (error) {
      // The response is cut (pipeline destroyed it): the client sees a truncated body.
      if (error instanceof StoredBytesMismatch)
        await this.downloads.withdraw(updateId, which, error);
    }
  }
}

import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import type { Actor } from '@sup/contracts';
import { AcceptsBody } from '@sup/service-kit';
import type { Request, Response } from 'express';
import { BUNDLE_MEDIA_TYPES } from './bundle-formats';
import { ImportRefusal } from './import-refusal';
import { ManualImportService } from './manual-import.service';

@Controller('v1/imports')
export class ImportsController {
  constructor(@Inject(ManualImportService) private readonly imports: ManualImportService) {}

  /** The body is a bundle (multipart, zip or tar), read as a stream by the service, never parsed by Nest. */
  @Post()
  @Roles('operator')
  // Bundles are streamed by the service; the shared guard refuses every other body type (415).
  @AcceptsBody(...BUNDLE_MEDIA_TYPES)
  async create(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentActor() actor: Actor,
  ) {
    try {
      const result = await this.imports.importBundle(req, actor);
      res.status(result.entries.some((e) => e.created) ? 202 : 200);
      return result;
    } catch (error) {
      if (error instanceof ImportRefusal) {
        for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      }
      throw error;
    }
  }
}

import {
  BadRequestException,
  Controller,
  HttpStatus,
  Inject,
  Post,
  Res,
  UploadedFiles,
  UseInterceptors,
  Body,
} from '@nestjs/common';
import { FileFieldsInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import { rm } from 'node:fs/promises';
import { ManualImportService } from './manual-import.service';

type Files = Partial<Record<'artifact' | 'signature', Express.Multer.File[]>>;

@Controller('v1/imports')
export class ImportsController {
  constructor(@Inject(ManualImportService) private readonly imports: ManualImportService) {}

  @Post()
  @UseInterceptors(
    FileFieldsInterceptor([
      { name: 'artifact', maxCount: 1 },
      { name: 'signature', maxCount: 1 },
    ]),
  )
  async create(
    @UploadedFiles() files: Files | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const artifact = files?.artifact?.[0];
    const signature = files?.signature?.[0];
    try {
      const manifest = body?.manifest;
      if (!artifact || !signature || typeof manifest !== 'string') {
        throw new BadRequestException(
          'multipart body needs the parts "artifact" (file), "signature" (file) and "manifest" (JSON)',
        );
      }
      const result = await this.imports.import({
        manifest,
        artifactPath: artifact.path,
        signaturePath: signature.path,
      });
      res.status(result.created ? HttpStatus.ACCEPTED : HttpStatus.OK);
      return { id: result.id, updateId: result.updateId, state: result.state };
    } finally {
      await Promise.all(
        [artifact, signature].map((f) => (f ? rm(f.path, { force: true }) : Promise.resolve())),
      );
    }
  }
}

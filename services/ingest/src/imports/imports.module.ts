import { Module, type DynamicModule } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { diskStorage } from 'multer';
import type { IngestConfig } from '../config';
import { ImportsController } from './imports.controller';
import { ManualImportService } from './manual-import.service';

/** Manual imports uploaded by an operator. */
@Module({})
export class ImportsModule {
  static register(config: IngestConfig): DynamicModule {
    const { uploadDir, maxArtifactBytes } = config;
    return {
      module: ImportsModule,
      imports: [
        // Uploads stream to disk, never to memory: artifacts can be gigabytes.
        MulterModule.register({
          storage: diskStorage({
            destination: (_req, _file, cb) => {
              mkdirSync(uploadDir, { recursive: true });
              cb(null, uploadDir);
            },
          }),
          limits: { fileSize: maxArtifactBytes, files: 2, fields: 1, fieldSize: 64 * 1024 },
        }),
      ],
      controllers: [ImportsController],
      providers: [ManualImportService],
    };
  }
}

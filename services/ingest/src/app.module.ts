import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { MulterModule } from '@nestjs/platform-express';
import { ArtifactStoreModule, ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import { mkdirSync } from 'node:fs';
import { diskStorage } from 'multer';
import type { IngestConfig } from './config';
import { ArtifactJanitor } from './artifact-janitor.service';
import { EntryImporter } from './entry-importer.service';
import { FeedStateStore } from './feed-state.store';
import { FeedSyncService } from './feed-sync.service';
import { FeedsController } from './feeds.controller';
import { ImportLedger } from './import-ledger.service';
import { ImportsController } from './imports.controller';
import { ManualImportService } from './manual-import.service';
import {
  FEED_STATE_MODEL,
  FeedStateSchema,
  IMPORT_MODEL,
  ImportSchema,
  SYNC_MODEL,
  SyncSchema,
} from './schemas';
import { RejectionHandler } from './rejection.handler';
import { SyncRequestHandler } from './sync-request.handler';
import { SyncScheduler } from './sync-scheduler';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext<IngestConfig>): DynamicModule {
    const { uploadDir, maxArtifactBytes } = ctx.config;
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        ArtifactStoreModule.forRoot(ctx.config),
        MongooseModule.forFeature([
          { name: SYNC_MODEL, schema: SyncSchema },
          { name: IMPORT_MODEL, schema: ImportSchema },
          { name: FEED_STATE_MODEL, schema: FeedStateSchema },
        ]),
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
      controllers: [FeedsController, ImportsController, SyncRequestHandler, RejectionHandler],
      providers: [
        ImportLedger,
        EntryImporter,
        FeedStateStore,
        FeedSyncService,
        ManualImportService,
        SyncScheduler,
        ArtifactJanitor,
      ],
    };
  }
}

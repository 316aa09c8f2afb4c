import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ArtifactRefsService } from './artifact-refs';
import { FeedStates } from './feed-states';
import { IMPORT_MODEL, ImportRepository, ImportSchema } from './import.repository';
import { KV_STORE_PROVIDERS } from './kv-stores';

/** Ingest's persistence, shared by its jobs: import records (MongoDB) and KV-backed state. */
@Global()
@Module({
  imports: [MongooseModule.forFeature([{ name: IMPORT_MODEL, schema: ImportSchema }])],
  providers: [...KV_STORE_PROVIDERS, ImportRepository, FeedStates, ArtifactRefsService],
  exports: [...KV_STORE_PROVIDERS, ImportRepository, FeedStates, ArtifactRefsService],
})
export class StateModule {}

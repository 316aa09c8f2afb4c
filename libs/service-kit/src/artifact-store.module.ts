import { Global, Module, type DynamicModule } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { createArtifactStore, type ArtifactStore } from '@sup/artifact-store';
import type { Connection } from 'mongoose';
import type { BaseConfig } from './config';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

/**
 * The artifact store every stage reads from: files under DATA_DIR (fast, needs a shared volume) or
 * GridFS in its own database on the same MongoDB (for clusters without one).
 */
@Global()
@Module({})
export class ArtifactStoreModule {
  static forRoot(config: BaseConfig): DynamicModule {
    return {
      module: ArtifactStoreModule,
      providers: [
        {
          provide: ARTIFACT_STORE,
          inject: [getConnectionToken()],
          useFactory: (mongo: Connection): ArtifactStore =>
            config.artifactStore.driver === 'fs'
              ? createArtifactStore({ driver: 'fs', dir: config.artifactStore.dir })
              : createArtifactStore({
                  driver: 'gridfs',
                  db: mongo.getClient().db(config.artifactDb),
                }),
        },
      ],
      exports: [ARTIFACT_STORE],
    };
  }
}

import type { Db } from 'mongodb';
import type { ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs-artifact-store';
import { GridFsArtifactStore } from './gridfs-artifact-store';

export type ArtifactStoreConfig =
  { driver: 'fs'; dir: string } | { driver: 'gridfs'; db: Db; bucketName?: string };

export function createArtifactStore(config: ArtifactStoreConfig): ArtifactStore {
  switch (config.driver) {
    case 'fs':
      return new FsArtifactStore(config.dir);
    case 'gridfs':
      return new GridFsArtifactStore(config.db, config.bucketName);
    default: {
      const driver: unknown = (config as { driver?: unknown }).driver;
      throw new Error(
        `unknown artifact store driver ${JSON.stringify(driver)} (expected "fs" or "gridfs")`,
      );
    }
  }
}

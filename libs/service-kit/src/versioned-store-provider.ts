import type { Provider } from '@nestjs/common';
import { JetStreamConnection, VersionedStore } from '@sup/jetstream';
import type { BaseConfig } from './config';
import { SERVICE_CONFIG } from './core.module';

/**
 * A Nest provider for state several replicas change: a KV bucket changed only by compare-and-set,
 * replicated like the service's streams. `ttlMs` reads the service's own config when it has one.
 */
export function versionedStoreProvider<C extends BaseConfig = BaseConfig>(
  token: symbol,
  bucket: string,
  description: string,
  ttlMs?: (config: C) => number,
  /** `BucketOptions.cacheEntries`: for hot keys this process updates again and again. */
  cacheEntries?: number,
): Provider {
  return {
    provide: token,
    inject: [JetStreamConnection, SERVICE_CONFIG],
    useFactory: (connection: JetStreamConnection, config: C) =>
      VersionedStore.open(connection, bucket, {
        replicas: config.jetstream.replicas,
        description,
        ...(ttlMs ? { ttlMs: ttlMs(config) } : {}),
        ...(cacheEntries ? { cacheEntries } : {}),
      }),
  };
}

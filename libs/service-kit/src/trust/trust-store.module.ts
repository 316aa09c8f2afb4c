import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER, SERVICE_CONFIG } from '../core.module';
import type { TrustConfig } from '../trust-config';
import { TrustLoader } from './trust-loader';

/** The service's TrustStore (`@sup/integrity`): inject it to verify any signature. */
export const TRUST_STORE = Symbol('TRUST_STORE');

@Injectable()
class TrustLoaderLifecycle implements OnApplicationShutdown {
  constructor(@Inject(TrustLoader) private readonly loader: TrustLoader) {}

  onApplicationShutdown(): void {
    this.loader.stop();
  }
}

/**
 * Provides TRUST_STORE, kept current by a TrustLoader, from the `trust` settings of the
 * service's config (loadTrustConfig). Global: ServiceCoreModule's config must be there; any
 * module may import this one, the store is one per process. CRL URLs are fetched once before
 * the module resolves, so nothing is verified before revocation data had its chance.
 */
@Global()
@Module({
  providers: [
    {
      provide: TrustLoader,
      inject: [SERVICE_CONFIG, ROOT_LOGGER],
      useFactory: async (config: Partial<TrustConfig>, logger: Logger): Promise<TrustLoader> => {
        if (!config.trust) throw new Error('TrustStoreModule needs a config from loadTrustConfig');
        const loader = new TrustLoader(config.trust, logger);
        await loader.start();
        return loader;
      },
    },
    {
      provide: TRUST_STORE,
      inject: [TrustLoader],
      useFactory: (loader: TrustLoader) => loader.store,
    },
    TrustLoaderLifecycle,
  ],
  exports: [TRUST_STORE],
})
export class TrustStoreModule {}

import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Authenticator } from '@sup/auth';
import type { TrustStore } from '@sup/integrity';
import { EventPublisher, type JetStreamConnection } from '@sup/jetstream';
import {
  HEALTH_CHECKS,
  HealthController,
  HttpEdgeModule,
  ROOT_LOGGER,
  SERVICE_CONFIG,
  TRUST_STORE,
  TrustStoreModule,
  type HealthCheck,
} from '@sup/service-kit';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ArtifactsController } from './artifacts.controller';
import { CatalogController } from './catalog.controller';
import type { RelayConfig } from './config';
import { ContentCache } from './content-cache';
import { ControlPlaneClient } from './control-plane.client';
import { GroupCatalog } from './group-catalog';
import { PublishedConsumer } from './published-consumer';
import { RelayService } from './relay.service';
import { Replicator } from './replicator';
import { Reporter } from './reporter';

export interface RelayContext {
  config: RelayConfig;
  connection: JetStreamConnection;
  logger: Logger;
  authenticator: Authenticator;
}

/** What the service kit gives a service, without MongoDB (a relay keeps its state on disk). */
@Global()
@Module({})
class RelayCoreModule {
  static forRoot(ctx: RelayContext): DynamicModule {
    return {
      module: RelayCoreModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            logger: ctx.logger,
            autoLogging: { ignore: (r) => !!r.url?.startsWith('/healthz/') },
          },
        }),
        HttpEdgeModule.forRoot(ctx.authenticator),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: ctx.config },
        { provide: ROOT_LOGGER, useValue: ctx.logger },
        {
          provide: HEALTH_CHECKS,
          useValue: [
            { name: 'nats', check: () => Promise.resolve(ctx.connection.isHealthy()) },
          ] satisfies HealthCheck[],
        },
      ],
      exports: [SERVICE_CONFIG, ROOT_LOGGER],
    };
  }
}

/** Loads the cache before anything is served, then consumes and reports; stops in reverse. */
@Injectable()
class RelayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PublishedConsumer) private readonly consumer: PublishedConsumer,
    @Inject(Reporter) private readonly reporter: Reporter,
    @Inject(RelayService) private readonly relay: RelayService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject('RELAY_CONNECTION') private readonly connection: JetStreamConnection,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const loaded = await this.relay.cache.load();
    this.logger.info(loaded, 'relay cache loaded');
    await this.relay.catalog.refreshGroup();
    await this.consumer.start();
    this.reporter.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer.stop();
    await this.reporter.stop();
    await this.relay.cache.save();
    await this.connection.close();
  }
}

@Module({})
export class AppModule {
  static register(ctx: RelayContext): DynamicModule {
    const { config, logger, connection } = ctx;
    const controlPlane = new ControlPlaneClient(config.controlPlaneUrl, config.relayToken);
    const cache = new ContentCache(config.cacheDir, config.cacheMaxBytes);
    const catalog = new GroupCatalog(
      controlPlane,
      config.relayId,
      config.configuredGroup,
      config.catalogTtlMs,
      logger,
    );
    return {
      module: AppModule,
      imports: [RelayCoreModule.forRoot(ctx), TrustStoreModule],
      controllers: [CatalogController, ArtifactsController],
      providers: [
        { provide: 'RELAY_CONNECTION', useValue: connection },
        {
          provide: RelayService,
          inject: [TRUST_STORE],
          useFactory: (trust: TrustStore) =>
            new RelayService(
              config.relayId,
              cache,
              catalog,
              new Replicator(
                cache,
                controlPlane,
                () => trust,
                logger,
                config.downloadTimeoutMs,
                config.downloadIdleMs,
              ),
              controlPlane,
              logger,
            ),
        },
        {
          provide: PublishedConsumer,
          inject: [RelayService],
          useFactory: (relay: RelayService) =>
            new PublishedConsumer(connection, relay, config, logger),
        },
        {
          provide: Reporter,
          inject: [RelayService],
          useFactory: (relay: RelayService) =>
            new Reporter(
              config,
              cache,
              catalog,
              new EventPublisher(connection, `/relays/${config.relayId}`),
              controlPlane,
              logger,
              () => relay.reconcile(),
            ),
        },
        RelayLifecycle,
      ],
    };
  }
}

import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MongooseModule, getConnectionToken, getModelToken } from '@nestjs/mongoose';
import type { AuthenticatedRequest, Authenticator } from '@sup/auth';
import { EventPublisher, JetStreamConnection, JetStreamModule } from '@sup/jetstream';
import type { Connection, Model } from 'mongoose';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AuditTrail } from './audit-trail';
import type { BaseConfig } from './config';
import { HEALTH_CHECKS, HealthController, type HealthCheck } from './health';
import { HttpEdgeModule, PUBLIC_PATH_PREFIX } from './http-input';
import { mongoHealthCheck } from './mongo';
import {
  MongoOutboxRepository,
  Outbox,
  OUTBOX_MODEL,
  OutboxSchema,
  type OutboxEntry,
} from './outbox';

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

export interface ServiceContext<C extends BaseConfig = BaseConfig> {
  config: C;
  connection: JetStreamConnection;
  logger: Logger;
  /** Checks API tokens; made at start-up from `config.auth` (a bad token file stops the service). */
  authenticator: Authenticator;
}

/**
 * One log line per API request naming who made it (the actor), without its headers: the
 * Authorization header is a secret. Probes are not logged.
 */
const pinoHttpOptions = (logger: Logger): Options<IncomingMessage, ServerResponse> => ({
  logger,
  autoLogging: { ignore: (req) => req.url?.startsWith(PUBLIC_PATH_PREFIX) ?? false },
  serializers: {
    req: (req: { id?: unknown; method?: string; url?: string }) => ({
      id: req.id,
      method: req.method,
      url: req.url,
    }),
  },
  // On the final line only: pino-http's customProps repeats nested objects on it.
  customSuccessObject: (req, _res, line: object) => withActor(req, line),
  customErrorObject: (req, _res, _err, line: object) => withActor(req, line),
});

const withActor = (req: IncomingMessage, line: object): object => {
  const actor = (req as AuthenticatedRequest).actor;
  return actor ? { ...line, actor } : line;
};

/** The outbox sweeper runs on every replica from start-up until shutdown. */
@Injectable()
class OutboxLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(Outbox) private readonly outbox: Outbox) {}

  onApplicationBootstrap(): void {
    this.outbox.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.outbox.stop();
  }
}

/**
 * What every service has: its config, pino logging, its own MongoDB database, the JetStream
 * connection and publisher, liveness/readiness endpoints, and the guards of its HTTP routes
 * (token and role, body media type).
 */
@Global()
@Module({})
export class ServiceCoreModule {
  static forRoot(ctx: ServiceContext): DynamicModule {
    return {
      module: ServiceCoreModule,
      imports: [
        LoggerModule.forRoot({ pinoHttp: pinoHttpOptions(ctx.logger) }),
        HttpEdgeModule.forRoot(ctx.authenticator),
        MongooseModule.forRoot(ctx.config.mongoUri, {
          dbName: ctx.config.mongoDb,
          retryAttempts: 10,
          retryDelay: 2_000,
          serverSelectionTimeoutMS: 10_000,
        }),
        MongooseModule.forFeature([{ name: OUTBOX_MODEL, schema: OutboxSchema }]),
        JetStreamModule.forRoot(ctx.connection, `/services/${ctx.config.service}`),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: ctx.config },
        { provide: ROOT_LOGGER, useValue: ctx.logger },
        {
          provide: Outbox,
          inject: [getModelToken(OUTBOX_MODEL), EventPublisher],
          useFactory: (model: Model<OutboxEntry>, publisher: EventPublisher) =>
            new Outbox(new MongoOutboxRepository(model), publisher, ctx.logger, {
              sweepIntervalMs: ctx.config.outboxSweepMs,
              sweepBatch: 500,
            }),
        },
        OutboxLifecycle,
        AuditTrail,
        {
          provide: HEALTH_CHECKS,
          inject: [getConnectionToken()],
          useFactory: (mongo: Connection): HealthCheck[] => [
            { name: 'nats', check: () => Promise.resolve(ctx.connection.isHealthy()) },
            mongoHealthCheck(mongo),
          ],
        },
      ],
      exports: [SERVICE_CONFIG, ROOT_LOGGER, Outbox, AuditTrail, MongooseModule],
    };
  }
}

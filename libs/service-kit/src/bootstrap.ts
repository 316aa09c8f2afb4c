import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { Authenticator, RouteCatalog } from '@sup/auth';
import {
  connectJetStream,
  JetStreamServer,
  redactUrlSecrets,
  type JetStreamConnection,
} from '@sup/jetstream';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { ConfigError, type BaseConfig } from './config';
import type { ServiceContext } from './core.module';
import { createHttpApp } from './http-input';
import { createLogger } from './logger';

export interface ServiceDefinition<C extends BaseConfig> {
  name: string;
  loadConfig(env: NodeJS.ProcessEnv): C;
  module(ctx: ServiceContext<C>): DynamicModule;
  /** Whether the service has JetStream handlers (every pipeline stage does). */
  consumes: boolean;
}

/**
 * Start-up order matters: config first (fail fast, readable), then NATS (streams exist before
 * anyone publishes), then the Nest app, then consumers, then HTTP. Shutdown runs in reverse:
 * consumers drain in-flight work before the NATS connection and MongoDB close.
 */
export async function runService<C extends BaseConfig>(def: ServiceDefinition<C>): Promise<void> {
  let config: C;
  try {
    config = def.loadConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const logger = createLogger(def.name, config.logLevel);
  let authenticator: Authenticator;
  try {
    authenticator = Authenticator.create(config.auth, logger);
  } catch (error) {
    process.stderr.write(`${new ConfigError(def.name, [String(error)]).message}\n`);
    process.exit(2);
  }

  let connection: JetStreamConnection;
  try {
    connection = await connectJetStream({
      servers: config.natsUrl,
      service: def.name,
      replicas: config.jetstream.replicas,
      duplicateWindowMs: config.streams.duplicateWindowMs,
      streamLimits: config.streams.limits,
      auth: config.natsAuth,
      logger,
    });
  } catch (error) {
    logger.fatal({ err: error }, `cannot connect to NATS at ${redactUrlSecrets(config.natsUrl)}`);
    process.exit(1);
  }

  const app = await createHttpApp(def.module({ config, connection, logger, authenticator }), {
    authenticator,
    jsonLimitBytes: config.httpJsonLimitBytes,
    logger,
  });
  app.useLogger(app.get(PinoNestLogger));
  refuseUnauthenticatedApi(def.name, app.get(RouteCatalog), config, authenticator);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  if (def.consumes) {
    app.connectMicroservice(
      {
        strategy: new JetStreamServer(connection, {
          ...config.jetstream,
          logger,
          drainTimeoutMs: config.shutdownGraceMs,
        }),
      },
      { inheritAppConfig: false },
    );
    await app.startAllMicroservices();
  }
  const server: import('node:http').Server = app.getHttpServer();
  server.requestTimeout = config.httpRequestTimeoutMs;
  await app.listen(config.httpPort, config.httpHost);
  logger.info({ port: config.httpPort, db: config.mongoDb }, `${def.name} ready`);
}

/**
 * A service with operator routes and no way to authenticate anyone would answer 401 to every
 * call: almost surely a deployment mistake, so it stops (exit 2) unless API_ALLOW_NO_AUTH says
 * that closed API is intended. Services with only probes need no token source.
 */
function refuseUnauthenticatedApi(
  service: string,
  routes: RouteCatalog,
  config: BaseConfig,
  authenticator: Authenticator,
): void {
  const guarded = routes.routes().filter((r) => !r.public);
  if (guarded.length === 0 || authenticator.configured || config.auth.allowNoAuth) return;
  process.stderr.write(
    `${
      new ConfigError(service, [
        `API_TOKENS_FILE / OIDC_ISSUER: ${service} serves ${guarded.length} API routes but no way to authenticate callers is configured (set API_ALLOW_NO_AUTH=true to run with every API call refused)`,
      ]).message
    }\n`,
  );
  process.exit(2);
}

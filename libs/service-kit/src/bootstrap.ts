import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  connectJetStream,
  JetStreamServer,
  redactUrlSecrets,
  type JetStreamConnection,
} from '@sup/jetstream';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { ConfigError, type BaseConfig } from './config';
import type { ServiceContext } from './core.module';
import { HttpErrorFilter } from './http-errors';
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

  const app = await NestFactory.create(def.module({ config, connection, logger }), {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  app.useGlobalFilters(
    new HttpErrorFilter((err) => logger.error({ err }, 'unhandled request error')),
  );
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
  await app.listen(config.httpPort, config.httpHost);
  logger.info({ port: config.httpPort, db: config.mongoDb }, `${def.name} ready`);
}

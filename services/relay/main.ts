import 'reflect-metadata';
import { Authenticator, RouteCatalog } from '@sup/auth';
import { ConfigError, createHttpApp, createLogger } from '@sup/service-kit';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './src/app.module';
import { loadConfig, type RelayConfig } from './src/config';
import { connectRelayNats } from './src/nats';

/**
 * Like the services' runService, without MongoDB and without creating streams: config (exit 2
 * when unusable), NATS as the relay's own user, the cache and consumer (app bootstrap), HTTP.
 */
async function main(): Promise<void> {
  let config: RelayConfig;
  let authenticator: Authenticator;
  try {
    config = loadConfig(process.env);
    authenticator = Authenticator.create(config.auth, createLogger('relay', 'silent'));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const logger = createLogger('relay', config.logLevel).child({ relayId: config.relayId });
  let connection;
  try {
    connection = await connectRelayNats(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'cannot connect to NATS');
    process.exit(1);
  }
  const app = await createHttpApp(
    AppModule.register({ config, connection, logger, authenticator }),
    { authenticator, jsonLimitBytes: 64 * 1024, logger },
  );
  app.useLogger(app.get(PinoNestLogger));
  const guarded = app
    .get(RouteCatalog)
    .routes()
    .filter((r) => !r.public);
  if (guarded.length > 0 && !authenticator.configured && !config.auth.allowNoAuth) {
    process.stderr.write(
      `${new ConfigError('relay', ['API_TOKENS_FILE / OIDC_ISSUER: the relay serves agents but no way to authenticate them is configured']).message}\n`,
    );
    process.exit(2);
  }
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(config.httpPort, config.httpHost);
  logger.info({ port: config.httpPort, group: config.configuredGroup }, 'relay ready');
}

void main();

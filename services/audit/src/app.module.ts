import { Module, type DynamicModule } from '@nestjs/common';
import { ROOT_LOGGER, ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import type { Logger } from 'pino';
import { AuditController } from './audit.controller';
import { AuditHandler } from './audit.handler';
import { AuditLog, CHECKPOINT_MS } from './audit-log.service';
import { AuditReader } from './audit-reader';
import { ChainAppender } from './chain-appender';
import { ChainStore } from './chain-store';
import type { AuditConfig } from './config';
import { loadSigningKey } from './signing-key';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext<AuditConfig>): DynamicModule {
    const { audit } = ctx.config;
    // Loaded (or generated) before anything consumes, so a bad key stops the start-up.
    const key = loadSigningKey(audit.signingKey, ctx.logger);
    ctx.logger.info({ keyId: key.keyId, file: key.file }, 'audit checkpoints signed with this key');
    return {
      module: AppModule,
      imports: [ServiceCoreModule.forRoot(ctx)],
      controllers: [AuditHandler, AuditController],
      providers: [
        { provide: ChainStore, useValue: new ChainStore(ctx.connection) },
        { provide: CHECKPOINT_MS, useValue: audit.checkpointMs },
        {
          provide: ChainAppender,
          inject: [ChainStore, ROOT_LOGGER],
          useFactory: (store: ChainStore, logger: Logger) =>
            new ChainAppender(store, key, logger, {
              checkpointEvery: audit.checkpointEvery,
              maxBatch: 512,
              maxRounds: 100,
            }),
        },
        AuditLog,
        AuditReader,
      ],
    };
  }
}

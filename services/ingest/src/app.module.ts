import { Module, type DynamicModule } from '@nestjs/common';
import { ArtifactStoreModule, ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import type { IngestConfig } from './config';
import { EntriesModule } from './entries/entries.module';
import { ImportsModule } from './imports/imports.module';
import { JanitorModule } from './janitor/janitor.module';
import { StateModule } from './state/state.module';
import { SyncsModule } from './syncs/syncs.module';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext<IngestConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        ArtifactStoreModule.forRoot(ctx.config),
        StateModule,
        SyncsModule,
        EntriesModule,
        JanitorModule,
        ImportsModule,
      ],
    };
  }
}

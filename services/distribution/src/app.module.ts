import { BUCKETS } from './buckets';
import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceCoreModule, versionedStoreProvider, type ServiceContext } from '@sup/service-kit';
import { CatalogRepository } from './catalog.repository';
import type { DistributionConfig } from './config';
import { CatalogService } from './catalog.service';
import { FleetModule } from './fleet/fleet.module';
import { OpenApiController } from './openapi.controller';
import { PublishHandler } from './publish.handler';
import { RelaysModule } from './relays/relays.module';
import { RolloutsModule } from './rollouts/rollouts.module';
import { CATALOG_MODEL, CatalogSchema, UPDATE_VIEW_MODEL, UpdateViewSchema } from './schemas';
import { UpdateViewHandler } from './update-view.handler';
import { UpdateViewProjection } from './update-view.repository';
import { UPDATE_VIEW_STORE, UpdateViewService } from './update-view.service';
import { UpdatesController } from './updates.controller';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        MongooseModule.forFeature([
          { name: CATALOG_MODEL, schema: CatalogSchema },
          { name: UPDATE_VIEW_MODEL, schema: UpdateViewSchema },
        ]),
        FleetModule,
        RelaysModule.register(ctx.config as DistributionConfig),
        RolloutsModule,
      ],
      controllers: [PublishHandler, UpdateViewHandler, UpdatesController, OpenApiController],
      providers: [
        CatalogRepository,
        CatalogService,
        UpdateViewProjection,
        UpdateViewService,
        versionedStoreProvider(
          UPDATE_VIEW_STORE,
          BUCKETS.updateViews.name,
          BUCKETS.updateViews.description,
        ),
      ],
    };
  }
}

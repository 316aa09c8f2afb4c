import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import { CatalogService } from './catalog.service';
import { OpenApiController } from './openapi.controller';
import { PublishHandler } from './publish.handler';
import {
  CATALOG_MODEL,
  CatalogSchema,
  UPDATE_EVENT_MODEL,
  UPDATE_VIEW_MODEL,
  UpdateEventSchema,
  UpdateViewSchema,
} from './schemas';
import { UpdateViewHandler } from './update-view.handler';
import { UpdateViewService } from './update-view.service';
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
          { name: UPDATE_EVENT_MODEL, schema: UpdateEventSchema },
        ]),
      ],
      controllers: [PublishHandler, UpdateViewHandler, UpdatesController, OpenApiController],
      providers: [CatalogService, UpdateViewService],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import { ALERT_MODEL, AlertSchema } from './alert.schema';
import { AlertRepository } from './alert.repository';
import { AlertsController } from './alerts.controller';
import { AlertsService } from './alerts.service';
import { RejectionHandler } from './rejection.handler';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        MongooseModule.forFeature([{ name: ALERT_MODEL, schema: AlertSchema }]),
      ],
      controllers: [RejectionHandler, AlertsController],
      providers: [AlertRepository, AlertsService],
    };
  }
}

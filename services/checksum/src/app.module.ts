import { Module, type DynamicModule } from '@nestjs/common';
import { ArtifactStoreModule, ServiceCoreModule, type ServiceContext } from '@sup/service-kit';
import { ChecksumHandler } from './checksum.handler';
import { ChecksumService } from './checksum.service';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceCoreModule.forRoot(ctx), ArtifactStoreModule.forRoot(ctx.config)],
      controllers: [ChecksumHandler],
      providers: [ChecksumService],
    };
  }
}

import { Module, type DynamicModule } from '@nestjs/common';
import {
  ArtifactStoreModule,
  ServiceCoreModule,
  TrustStoreModule,
  type ServiceContext,
} from '@sup/service-kit';
import type { SignatureValidatorConfig } from './config';
import { SignatureHandler } from './signature.handler';
import { SignatureService } from './signature.service';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext<SignatureValidatorConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        ArtifactStoreModule.forRoot(ctx.config),
        TrustStoreModule,
      ],
      controllers: [SignatureHandler],
      providers: [SignatureService],
    };
  }
}

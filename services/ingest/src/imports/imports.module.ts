import { Module } from '@nestjs/common';
import { TrustModule } from '../trust/trust.module';
import { BundleRecorder } from './bundle-recorder';
import { ImportsController } from './imports.controller';
import { ManualImportService } from './manual-import.service';

/** Manual imports: signed bundles uploaded by an operator. */
@Module({
  imports: [TrustModule],
  controllers: [ImportsController],
  providers: [ManualImportService, BundleRecorder],
})
export class ImportsModule {}

import { Module } from '@nestjs/common';
import { TrustStoreModule } from '@sup/service-kit';
import { SignedIndexVerifier } from './signed-index';

/** The checks a signed index passes before anything trusts it, for feeds and uploads alike. */
@Module({
  imports: [TrustStoreModule],
  providers: [SignedIndexVerifier],
  exports: [SignedIndexVerifier],
})
export class TrustModule {}

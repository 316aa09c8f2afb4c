import { Module } from '@nestjs/common';
import { SignedIndexVerifier } from './signed-index';

/** The checks a signed index passes before anything trusts it, for feeds and uploads alike. */
@Module({
  providers: [SignedIndexVerifier],
  exports: [SignedIndexVerifier],
})
export class TrustModule {}

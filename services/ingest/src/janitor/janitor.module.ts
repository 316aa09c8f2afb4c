import { Module } from '@nestjs/common';
import { ArtifactJanitor } from './artifact-janitor.service';
import { RejectionHandler } from './rejection.handler';

/** Deletes the stored bytes of rejected updates that nobody else holds. */
@Module({ controllers: [RejectionHandler], providers: [ArtifactJanitor] })
export class JanitorModule {}

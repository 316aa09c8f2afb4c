import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CATALOG_MODEL, CatalogSchema } from '../schemas';
import { versionedStoreProvider } from '@sup/service-kit';
import { FleetController } from './fleet.controller';
import { FLEET_WINNERS_BUCKET, FLEET_WINNERS_STORE, FleetWinners } from './fleet-winners';
import { FleetReportHandler } from './fleet-report.handler';
import { FleetRepository } from './fleet.repository';
import { COMPUTER_MODEL, ComputerSchema } from './fleet.schema';
import { FleetService } from './fleet.service';

/**
 * Computers whose last winning report this replica keeps (about 1 KiB each): a re-report's claim
 * then writes at the known revision without reading it first (one KV request, not two).
 */
const FLEET_WINNERS_CACHE = 50_000;

/** The fleet: reports in (REST and NATS), the read model, its listing and summary. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: COMPUTER_MODEL, schema: ComputerSchema },
      // Read only: the newest published security update per component, for the summary.
      { name: CATALOG_MODEL, schema: CatalogSchema },
    ]),
  ],
  controllers: [FleetController, FleetReportHandler],
  providers: [
    FleetRepository,
    FleetService,
    FleetWinners,
    versionedStoreProvider(
      FLEET_WINNERS_STORE,
      FLEET_WINNERS_BUCKET,
      'Each computer’s latest fleet report, replaced only by a higher rank (compare-and-set)',
      undefined,
      FLEET_WINNERS_CACHE,
    ),
  ],
})
export class FleetModule {}

import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CATALOG_MODEL, CatalogSchema } from '../schemas';
import { FleetController } from './fleet.controller';
import { FleetReportHandler } from './fleet-report.handler';
import { FleetRepository } from './fleet.repository';
import { COMPUTER_MODEL, ComputerSchema } from './fleet.schema';
import { FleetService } from './fleet.service';

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
  providers: [FleetRepository, FleetService],
})
export class FleetModule {}

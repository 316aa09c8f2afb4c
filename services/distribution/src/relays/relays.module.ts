import { BUCKETS } from '../buckets';
import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ArtifactStoreModule, SERVICE_CONFIG, versionedStoreProvider } from '@sup/service-kit';
import type { DistributionConfig } from '../config';
import { DownloadsController } from '../downloads/downloads.controller';
import { DownloadsService } from '../downloads/downloads.service';
import { CATALOG_MODEL, CatalogSchema } from '../schemas';
import { GroupCatalogService, PROVENANCE_KEY, RELAYS_UPDATE_VIEWS } from './group-catalog.service';
import { loadProvenanceKey } from './provenance-key';
import { PublishedUpdates } from './published-updates';
import { RelayDirectory } from './relay-directory';
import { RelayEventsHandler } from './relay-events.handler';
import { RelayEventsService } from './relay-events.service';
import { RelaysController } from './relays.controller';
import { RelaysRepository } from './relays.repository';
import {
  RELAY_ASSIGNMENT_MODEL,
  RELAY_GROUP_MODEL,
  RELAY_MODEL,
  RELAY_UPDATE_STATE_MODEL,
  RelayAssignmentSchema,
  RelayGroupDocSchema,
  RelaySchema,
  RelayUpdateStateSchema,
  WITHDRAWN_MODEL,
  WithdrawnSchema,
} from './relays.schema';
import { RelaysService } from './relays.service';
import { SecurityChannel, VERSION_CONTROL_STORE } from './security-channel';

/**
 * The relays' control plane: relay read model and groups, per-(update, relay) state, downloads,
 * group catalogs with signed provenance, relays' results and the security channel. Global, so
 * rollouts and agents' assignments inject RelayDirectory and SecurityChannel without importing a
 * second instance of this dynamic module.
 */
@Module({})
export class RelaysModule {
  static register(config: DistributionConfig): DynamicModule {
    return {
      module: RelaysModule,
      global: true,
      imports: [
        ArtifactStoreModule.forRoot(config),
        MongooseModule.forFeature([
          { name: RELAY_MODEL, schema: RelaySchema },
          { name: RELAY_GROUP_MODEL, schema: RelayGroupDocSchema },
          { name: RELAY_ASSIGNMENT_MODEL, schema: RelayAssignmentSchema },
          { name: RELAY_UPDATE_STATE_MODEL, schema: RelayUpdateStateSchema },
          { name: WITHDRAWN_MODEL, schema: WithdrawnSchema },
          { name: CATALOG_MODEL, schema: CatalogSchema },
        ]),
      ],
      controllers: [RelaysController, DownloadsController, RelayEventsHandler],
      providers: [
        RelaysRepository,
        PublishedUpdates,
        SecurityChannel,
        RelayDirectory,
        RelayEventsService,
        RelaysService,
        GroupCatalogService,
        DownloadsService,
        {
          provide: PROVENANCE_KEY,
          inject: [SERVICE_CONFIG],
          useFactory: (c: DistributionConfig) => loadProvenanceKey(c.relays.provenanceKey),
        },
        versionedStoreProvider(
          VERSION_CONTROL_STORE,
          BUCKETS.versionControl.name,
          BUCKETS.versionControl.description,
        ),
        versionedStoreProvider(
          RELAYS_UPDATE_VIEWS,
          BUCKETS.updateViews.name,
          BUCKETS.updateViews.description,
        ),
      ],
      exports: [RelayDirectory, SecurityChannel, PublishedUpdates],
    };
  }
}

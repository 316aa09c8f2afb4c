import { BUCKETS } from '../buckets';
import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { versionedStoreProvider } from '@sup/service-kit';
import { COMPUTER_MODEL, ComputerSchema } from '../fleet/fleet.schema';
import { CATALOG_MODEL, CatalogSchema } from '../schemas';
import { AssignmentService } from './assignment.service';
import { RELAY_LOOKUP, SECURITY_TARGETS } from './relay-ports';
import { RelayDirectory } from '../relays/relay-directory';
import { SecurityChannel } from '../relays/security-channel';
import { RolloutAnnouncer } from './rollout-announcer';
import { RolloutEvaluator } from './rollout-evaluator';
import { RolloutReportsHandler } from './rollout-reports.handler';
import { ROLLOUT_INDEX_STORE, ROLLOUT_STORE, VERSION_CONTROL_STORE } from './rollout-stores';
import { rolloutsConfigProvider } from './rollouts.config';
import {
  AgentsController,
  RolloutsController,
  VersionControlController,
} from './rollouts.controller';
import { RolloutsRepository } from './rollouts.repository';
import {
  ROLLOUT_MEMBER_MODEL,
  ROLLOUT_OUTCOME_MODEL,
  ROLLOUT_RELAYED_MODEL,
  ROLLOUT_WAVE_MODEL,
  RolloutMemberSchema,
  RolloutOutcomeSchema,
  RolloutRelayedSchema,
  RolloutWaveSchema,
} from './rollouts.schema';
import { RolloutsService } from './rollouts.service';
import { SoftwareTargets } from './software-targets';
import { VersionControlService } from './version-control.service';

/**
 * The token the relays module asks for SoftwareTargets under (through ModuleRef, so neither module
 * imports the other); a global symbol, so it is the same token on both sides.
 */
const SOFTWARE_TARGETS = Symbol.for('sup.distribution.SoftwareTargets');

const ROLLOUTS_BUCKET = 'Rollouts (rollout.<id>) and the index of active ones, by compare-and-set';

/**
 * Agent version control, rollouts in waves and agent assignments. Reads the fleet and catalog
 * collections (owned by the fleet module and the publisher) by `_id`, and the relays through
 * RELAY_LOOKUP / SECURITY_TARGETS: the relays module's RelayDirectory and SecurityChannel.
 */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ROLLOUT_MEMBER_MODEL, schema: RolloutMemberSchema },
      { name: ROLLOUT_WAVE_MODEL, schema: RolloutWaveSchema },
      { name: ROLLOUT_OUTCOME_MODEL, schema: RolloutOutcomeSchema },
      { name: ROLLOUT_RELAYED_MODEL, schema: RolloutRelayedSchema },
      { name: COMPUTER_MODEL, schema: ComputerSchema },
      { name: CATALOG_MODEL, schema: CatalogSchema },
    ]),
  ],
  controllers: [
    RolloutsController,
    VersionControlController,
    AgentsController,
    RolloutReportsHandler,
  ],
  providers: [
    rolloutsConfigProvider,
    versionedStoreProvider(ROLLOUT_STORE, 'rollouts', ROLLOUTS_BUCKET),
    versionedStoreProvider(ROLLOUT_INDEX_STORE, 'rollouts', ROLLOUTS_BUCKET),
    // The relays module opens this bucket too (security.* pins): see buckets.ts.
    versionedStoreProvider(
      VERSION_CONTROL_STORE,
      BUCKETS.versionControl.name,
      BUCKETS.versionControl.description,
    ),
    // The relays module is global: its RelayDirectory and SecurityChannel serve these ports.
    { provide: RELAY_LOOKUP, useExisting: RelayDirectory },
    { provide: SECURITY_TARGETS, useExisting: SecurityChannel },
    RolloutsRepository,
    RolloutAnnouncer,
    RolloutEvaluator,
    RolloutsService,
    VersionControlService,
    AssignmentService,
    SoftwareTargets,
    { provide: SOFTWARE_TARGETS, useExisting: SoftwareTargets },
  ],
  exports: [SoftwareTargets, SOFTWARE_TARGETS, VersionControlService],
})
export class RolloutsModule {}

import { Module, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ServiceCoreModule, versionedStoreProvider, type ServiceContext } from '@sup/service-kit';
import { ALERT_MODEL, AlertSchema } from './alert.schema';
import { AlertProjection } from './alert.repository';
import { AlertsController } from './alerts.controller';
import { ALERT_STORE, AlertsService } from './alerts.service';
import type { AlertingConfig } from './config';
import { RejectionHandler } from './rejection.handler';
import {
  RULES_STATE_BUCKET,
  RULES_STATE_STORE,
  RuleComputerWinners,
} from './rules/rule-computer-winners';
import { RulesEvaluator } from './rules/rules-evaluator';
import { RulesFeed } from './rules/rules-feed';
import { AnnounceSweeper } from './announce-sweeper';
import { RulesProjection } from './rules/rules-projection';
import { RulesHandler } from './rules/rules.handler';
import { RulesRepository } from './rules/rules.repository';
import { RULE_MODELS } from './rules/rules.schema';
import { WebhookHandler } from './webhooks/webhook.handler';

@Module({})
export class AppModule {
  static register(ctx: ServiceContext<AlertingConfig>): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceCoreModule.forRoot(ctx),
        MongooseModule.forFeature([{ name: ALERT_MODEL, schema: AlertSchema }, ...RULE_MODELS]),
      ],
      controllers: [RejectionHandler, RulesHandler, WebhookHandler, AlertsController],
      providers: [
        AlertProjection,
        AlertsService,
        RulesRepository,
        RulesEvaluator,
        RulesFeed,
        AnnounceSweeper,
        RulesProjection,
        RuleComputerWinners,
        versionedStoreProvider(
          RULES_STATE_STORE,
          RULES_STATE_BUCKET,
          'The rules’ projection: each computer’s latest report (computer.<id>), by compare-and-set',
          undefined,
          // A re-report's claim writes at the known revision without reading first.
          50_000,
        ),
        versionedStoreProvider(
          ALERT_STORE,
          'alerts',
          'One alert per rule + subject, changed by compare-and-set',
        ),
      ],
    };
  }
}

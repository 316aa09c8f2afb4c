import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import { AlertIdSchema, ListAlertsQuerySchema, type Actor } from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import { AlertsService } from './alerts.service';

@Controller('v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get()
  @Roles('viewer')
  async list(@Query() query: unknown) {
    const q = parseRequest(ListAlertsQuerySchema, query, 'query');
    const { items, total } = await this.alerts.list(q);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  @Get(':id')
  @Roles('viewer')
  get(@Param('id') id: string) {
    return this.alerts.get(parseRequest(AlertIdSchema, id, 'path'));
  }

  @Post(':id/ack')
  @HttpCode(200)
  @Roles('operator')
  ack(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.alerts.acknowledge(parseRequest(AlertIdSchema, id, 'path'), actor);
  }
}

import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { ListAlertsQuerySchema } from '@sup/contracts';
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
}

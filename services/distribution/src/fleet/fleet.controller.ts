import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { Roles } from '@sup/auth';
import {
  FLEET_REPORTS_BODY_LIMIT,
  FleetReportsBodySchema,
  ListFleetQuerySchema,
  type FleetReportsAccepted,
  type FleetSummary,
} from '@sup/contracts';
import { JsonBodyLimit, parseRequest } from '@sup/service-kit';
import { FleetService } from './fleet.service';

@Controller('v1/fleet')
export class FleetController {
  constructor(private readonly fleet: FleetService) {}

  /** Agents report themselves (the `agent` role may do nothing else); operators may too. */
  @Post('reports')
  @Roles('agent', 'operator')
  @HttpCode(202)
  @JsonBodyLimit(FLEET_REPORTS_BODY_LIMIT)
  report(@Body() body: unknown): Promise<FleetReportsAccepted> {
    const { reports } = parseRequest(FleetReportsBodySchema, body, 'fleet reports');
    return this.fleet.submit(reports);
  }

  @Get()
  @Roles('viewer')
  list(@Query() query: unknown) {
    return this.fleet.list(parseRequest(ListFleetQuerySchema, query, 'query'));
  }

  @Get('summary')
  @Roles('viewer')
  summary(): Promise<FleetSummary> {
    return this.fleet.summary();
  }
}

import { Body, Controller, ForbiddenException, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import {
  type Actor,
  FLEET_REPORTS_BODY_LIMIT,
  FleetReportsBodySchema,
  ListFleetQuerySchema,
  type FleetReportsAccepted,
  type FleetSummary,
} from '@sup/contracts';
import { refuseReports } from '@sup/domain';
import { JsonBodyLimit, parseRequest } from '@sup/service-kit';
import { FleetService } from './fleet.service';

@Controller('v1/fleet')
export class FleetController {
  constructor(private readonly fleet: FleetService) {}

  /**
   * Agents and relays report themselves (those roles may do little else); operators may too. A
   * relay only its own report, an agent token only agent reports (`refuseReports`): 403, nothing
   * published.
   */
  @Post('reports')
  @Roles('agent', 'relay', 'operator')
  @HttpCode(202)
  @JsonBodyLimit(FLEET_REPORTS_BODY_LIMIT)
  report(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<FleetReportsAccepted> {
    const { reports } = parseRequest(FleetReportsBodySchema, body, 'fleet reports');
    const refusal = refuseReports(actor, reports);
    if (refusal) throw new ForbiddenException(refusal);
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

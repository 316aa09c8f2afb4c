import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import {
  AssignRelayGroupSchema,
  CreateRelayGroupSchema,
  RelayGroupNameSchema,
  RelayIdSchema,
  RelayResultsBodySchema,
  UpdateIdSchema,
  type Actor,
} from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import { GroupCatalogService } from './group-catalog.service';
import { RelaysService } from './relays.service';
import { SecurityChannel } from './security-channel';

/** Relay groups, relays, results, group catalogs, the provenance key and security rollback. */
@Controller('v1')
export class RelaysController {
  constructor(
    private readonly relays: RelaysService,
    private readonly catalogs: GroupCatalogService,
    private readonly security: SecurityChannel,
  ) {}

  @Get('relay-groups')
  @Roles('viewer')
  groups() {
    return this.relays.groups();
  }

  @Post('relay-groups')
  @Roles('operator')
  @HttpCode(201)
  createGroup(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.relays.createGroup(
      parseRequest(CreateRelayGroupSchema, body, 'relay group'),
      actor,
    );
  }

  // Agents read it too when their relays do not answer (the fallback source).
  @Get('relay-groups/:group/catalog')
  @Roles('agent', 'relay', 'viewer')
  catalog(@Param('group') group: string) {
    return this.catalogs.catalog(parseRequest(RelayGroupNameSchema, group, 'relay group'));
  }

  @Get('relays')
  @Roles('viewer')
  list() {
    return this.relays.list();
  }

  @Get('relays/summary')
  @Roles('viewer')
  summary() {
    return this.relays.summary();
  }

  @Get('relays/:relayId')
  @Roles('relay', 'viewer')
  relay(@Param('relayId') relayId: string, @CurrentActor() actor: Actor) {
    return this.relays.relay(parseRequest(RelayIdSchema, relayId, 'relay id'), actor);
  }

  @Put('relays/:relayId/group')
  @Roles('operator')
  assign(@Param('relayId') relayId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const id = parseRequest(RelayIdSchema, relayId, 'relay id');
    const { group } = parseRequest(AssignRelayGroupSchema, body, 'assignment');
    return this.relays.assignGroup(id, group, actor);
  }

  @Post('relays/:relayId/results')
  @Roles('relay')
  @HttpCode(202)
  results(@Param('relayId') relayId: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    const id = parseRequest(RelayIdSchema, relayId, 'relay id');
    // Another relay's credential is refused before its body is even read.
    this.relays.assertSelf(id, actor);
    const { results } = parseRequest(RelayResultsBodySchema, body, 'relay results');
    return this.relays.results(id, actor, results);
  }

  @Get('provenance/key')
  @Roles('agent', 'relay', 'viewer')
  provenanceKey() {
    return this.catalogs.publicKey();
  }

  @Post('updates/:id/apply')
  @Roles('operator')
  @HttpCode(200)
  apply(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.security.apply(parseRequest(UpdateIdSchema, id, 'update id'), actor);
  }
}

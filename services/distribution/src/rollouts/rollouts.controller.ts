import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import {
  AgentAssignmentSchema,
  AssignmentQuerySchema,
  ComputerIdSchema,
  CreateRolloutBodySchema,
  PlatformSchema,
  PutVersionControlBodySchema,
  RolloutIdSchema,
  type Actor,
} from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import { AssignmentService } from './assignment.service';
import { RolloutsService } from './rollouts.service';
import { VersionControlService } from './version-control.service';

@Controller('v1/rollouts')
export class RolloutsController {
  constructor(private readonly rollouts: RolloutsService) {}

  @Post()
  @Roles('operator')
  create(@Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.rollouts.create(parseRequest(CreateRolloutBodySchema, body, 'rollout'), actor);
  }

  @Get()
  @Roles('viewer')
  async list() {
    return { items: await this.rollouts.list() };
  }

  @Get(':id')
  @Roles('viewer')
  get(@Param('id') id: string) {
    return this.rollouts.get(parseRequest(RolloutIdSchema, id, 'path'));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Roles('operator')
  pause(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.rollouts.pause(parseRequest(RolloutIdSchema, id, 'path'), actor);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Roles('operator')
  resume(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.rollouts.resume(parseRequest(RolloutIdSchema, id, 'path'), actor);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('operator')
  cancel(@Param('id') id: string, @CurrentActor() actor: Actor) {
    return this.rollouts.cancel(parseRequest(RolloutIdSchema, id, 'path'), actor);
  }
}

@Controller('v1/version-control')
export class VersionControlController {
  constructor(private readonly versionControl: VersionControlService) {}

  @Get()
  @Roles('viewer')
  async list() {
    return { items: await this.versionControl.list() };
  }

  @Put(':platform')
  @Roles('operator')
  put(@Param('platform') platform: string, @Body() body: unknown, @CurrentActor() actor: Actor) {
    return this.versionControl.put(
      parseRequest(PlatformSchema, platform, 'path'),
      parseRequest(PutVersionControlBodySchema, body, 'version control'),
      actor,
    );
  }
}

@Controller('v1/agents')
export class AgentsController {
  constructor(private readonly assignments: AssignmentService) {}

  @Get(':agentId/assignment')
  @Roles('agent', 'viewer')
  async assignment(@Param('agentId') agentId: string, @Query() query: unknown) {
    const answer = await this.assignments.assignment(
      parseRequest(ComputerIdSchema, agentId, 'path'),
      parseRequest(AssignmentQuerySchema, query, 'query'),
    );
    return AgentAssignmentSchema.parse(answer);
  }
}

import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { CurrentActor, Roles } from '@sup/auth';
import { SyncRequestSchema, type Actor, type SyncStatus } from '@sup/contracts';
import { FeedError } from '@sup/feed';
import { parseRequest, SERVICE_CONFIG } from '@sup/service-kit';
import type { IngestConfig } from '../config';
import { SyncRequests } from './sync-requests.service';

@Controller('v1/feeds')
export class FeedsController {
  constructor(
    private readonly syncs: SyncRequests,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
  ) {}

  @Post('sync')
  @HttpCode(202)
  @Roles('operator')
  async sync(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<{ id: string }> {
    const request = parseRequest(SyncRequestSchema, body ?? {}, 'body');
    const url = request.url ?? this.config.feedUrl;
    if (!url)
      throw new BadRequestException('no feed URL: pass {"url": "<feed base>"} or set FEED_URL');
    try {
      return { id: await this.syncs.request(url, actor) };
    } catch (error) {
      // A URL the policy refuses (scheme, prefix, address, malformed) is the caller's error.
      if (error instanceof FeedError) {
        const message = `feed URL refused (${error.code}): ${error.message}`;
        throw new BadRequestException({ message, details: [`rule: ${error.code}`] });
      }
      throw error;
    }
  }

  @Get('syncs/:id')
  @Roles('viewer')
  async status(@Param('id') id: string): Promise<SyncStatus> {
    const status = /^sync_[0-9a-f]{24}$/.test(id) ? await this.syncs.status(id) : undefined;
    if (!status) throw new NotFoundException(`no sync with id ${id}`);
    return status;
  }
}

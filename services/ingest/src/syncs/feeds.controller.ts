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
    const allowed = this.config.allowedUrlPrefixes;
    // The configured feed is always allowed; other URLs only when an operator listed them.
    if (allowed && url !== this.config.feedUrl && !allowed.some((p) => url.startsWith(p))) {
      throw new BadRequestException(`feed URL ${url} is not allowed (FEED_ALLOWED_URL_PREFIXES)`);
    }
    try {
      return { id: await this.syncs.request(url, actor) };
    } catch (error) {
      if (error instanceof FeedError && error.code === 'bad-url')
        throw new BadRequestException(error.message);
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

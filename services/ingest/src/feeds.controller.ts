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
import { SyncRequestSchema, type SyncStatus } from '@sup/contracts';
import { FeedError } from '@sup/feed';
import { parseRequest, SERVICE_CONFIG } from '@sup/service-kit';
import type { IngestConfig } from './config';
import { FeedSyncService } from './feed-sync.service';

@Controller('v1/feeds')
export class FeedsController {
  constructor(
    private readonly syncs: FeedSyncService,
    @Inject(SERVICE_CONFIG) private readonly config: IngestConfig,
  ) {}

  @Post('sync')
  @HttpCode(202)
  async sync(@Body() body: unknown): Promise<{ id: string }> {
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
      return { id: await this.syncs.request(url) };
    } catch (error) {
      if (error instanceof FeedError && error.code === 'bad-url')
        throw new BadRequestException(error.message);
      throw error;
    }
  }

  @Get('syncs/:id')
  async status(@Param('id') id: string): Promise<SyncStatus> {
    const s = await this.syncs.find(id);
    if (!s) throw new NotFoundException(`no sync with id ${id}`);
    return {
      id: s._id,
      url: s.url,
      state: s.state,
      ...(s.reason ? { reason: s.reason } : {}),
      ...(s.feed ? { feed: s.feed } : {}),
      ...(s.sequence !== undefined && s.sequence !== null ? { sequence: s.sequence } : {}),
      imported: s.imported,
      unchanged: s.unchanged,
      rejected: s.rejected,
      ...(s.total !== undefined && s.total !== null ? { total: s.total } : {}),
      requestedAt: s.requestedAt.toISOString(),
      ...(s.startedAt ? { startedAt: s.startedAt.toISOString() } : {}),
      ...(s.finishedAt ? { finishedAt: s.finishedAt.toISOString() } : {}),
    };
  }
}

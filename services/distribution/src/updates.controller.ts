import { Controller, Get, Param, Query } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { ListUpdatesQuerySchema, UpdateIdSchema, type UpdateDetail } from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import { RelayDirectory } from './relays/relay-directory';
import { UpdateViewService } from './update-view.service';

@Controller('v1/updates')
@Roles('viewer')
export class UpdatesController {
  constructor(
    private readonly view: UpdateViewService,
    private readonly relays: RelayDirectory,
  ) {}

  @Get()
  async list(@Query() query: unknown) {
    const q = parseRequest(ListUpdatesQuerySchema, query, 'query');
    const { items, total } = await this.view.list(q);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<UpdateDetail> {
    const detail = await this.view.get(parseRequest(UpdateIdSchema, id, 'update id'));
    // Where a published update stands at each relay that should have it or reported on it.
    if (detail.state !== 'published') return detail;
    return { ...detail, relays: await this.relays.relayStates(detail.id) };
  }
}

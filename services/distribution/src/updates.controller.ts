import { Controller, Get, Param, Query } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { ListUpdatesQuerySchema, UpdateIdSchema, type UpdateDetail } from '@sup/contracts';
import { parseRequest } from '@sup/service-kit';
import { UpdateViewService } from './update-view.service';

@Controller('v1/updates')
@Roles('viewer')
export class UpdatesController {
  constructor(private readonly view: UpdateViewService) {}

  @Get()
  async list(@Query() query: unknown) {
    const q = parseRequest(ListUpdatesQuerySchema, query, 'query');
    const { items, total } = await this.view.list(q);
    return { items, total, limit: q.limit, offset: q.offset };
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<UpdateDetail> {
    return this.view.get(parseRequest(UpdateIdSchema, id, 'update id'));
  }
}

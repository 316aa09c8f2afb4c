import { Controller, Get, Query } from '@nestjs/common';
import { ListAuditQuerySchema, type AuditPage } from '@sup/contracts';
import { Roles } from '@sup/auth';
import { parseRequest } from '@sup/service-kit';
import { AuditReader } from './audit-reader';

@Controller('v1/audit')
export class AuditController {
  constructor(private readonly reader: AuditReader) {}

  /** Admins only: the log names every operator and what they did. */
  @Get()
  @Roles('admin')
  list(@Query() query: unknown): Promise<AuditPage> {
    return this.reader.page(parseRequest(ListAuditQuerySchema, query, 'query'));
  }
}

import { Controller, Get } from '@nestjs/common';
import { Roles } from '@sup/auth';
import { buildOpenApi } from '@sup/contracts';

/** The whole operator API is described in one document; the ingress routes this path here. */
@Controller('v1')
export class OpenApiController {
  private readonly document = buildOpenApi();

  @Get('openapi.json')
  @Roles('viewer')
  openapi(): object {
    return this.document;
  }
}

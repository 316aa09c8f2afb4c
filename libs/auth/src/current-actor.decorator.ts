import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@sup/contracts';

/** What the auth guard leaves on an authenticated request (also read by the request log). */
export interface AuthenticatedRequest {
  actor?: Actor;
}

/**
 * The authenticated caller of the current request, for attributing what it does (events, audit).
 * Only valid on routes with `@Roles(...)`: the guard has run and set it.
 */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  // The guard authenticates every non-public route first; reaching here without an actor is a bug.
  if (!actor)
    throw new Error('@CurrentActor() used on a route the auth guard did not authenticate');
  return actor;
});

import { SetMetadata } from '@nestjs/common';
import type { Role } from '@sup/contracts';

export const ROLES_METADATA = 'sup:auth:roles';
export const PUBLIC_METADATA = 'sup:auth:public';

/**
 * Who may call a route (on a handler, or on a controller for all its handlers). A route with
 * neither this nor `@Public()` is refused to everyone: a new route is closed until it says who
 * may use it. `@Roles('viewer')` admits viewer, operator and admin; machine roles must be named.
 */
export const Roles = (...roles: [Role, ...Role[]]): MethodDecorator & ClassDecorator =>
  SetMetadata(ROLES_METADATA, roles);

/** A route anyone may call without a token (health probes only). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_METADATA, true);

import {
  ForbiddenException,
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describeRoles, roleAllows, type Role } from '@sup/contracts';
import type { Request, Response } from 'express';
import { Authenticator, BearerChallenge } from './authenticator';
import type { AuthenticatedRequest } from './current-actor.decorator';
import { PUBLIC_METADATA, ROLES_METADATA } from './roles.decorator';

/**
 * Global guard of every HTTP route: public routes pass; any other needs a valid bearer token
 * (401) whose role the route names (403). A route that names no role is refused to everyone,
 * so forgetting `@Roles` closes a route instead of opening it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(Authenticator) private readonly auth: Authenticator,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    // JetStream message handlers are not HTTP: their trust comes from NATS, not from tokens.
    if (ctx.getType() !== 'http') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;

    const http = ctx.switchToHttp();
    const req = http.getRequest<Request & AuthenticatedRequest>();
    // Usually the HTTP middleware has already authenticated the request, before its body.
    if (!req.actor) {
      try {
        req.actor = await this.auth.authenticate(req.headers.authorization);
      } catch (error) {
        if (error instanceof BearerChallenge)
          http.getResponse<Response>().setHeader('WWW-Authenticate', error.wwwAuthenticate);
        throw error;
      }
    }
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, targets);
    if (!roles || roles.length === 0)
      throw new ForbiddenException('this route names no role, so it is closed to everyone');
    const { name, role } = req.actor;
    if (!role || !roleAllows(role, roles)) {
      const needed = describeRoles(roles);
      throw new ForbiddenException({
        message: `role ${needed} needed; ${name} has ${role ? `role ${role}` : 'no role'}`,
        details: [`required role: ${needed}`],
      });
    }
    return true;
  }
}

import { Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Role } from '@sup/contracts';
import { PUBLIC_METADATA, ROLES_METADATA } from './roles.decorator';

export interface RouteInfo {
  method: string;
  path: string;
  public: boolean;
  /** Undefined: the route names no role and is refused to everyone. */
  roles?: Role[];
}

const joinPath = (...parts: unknown[]): string =>
  `/${parts
    .flatMap((p) => (Array.isArray(p) ? (p as unknown[])[0] : p))
    .filter((p): p is string => typeof p === 'string' && p !== '' && p !== '/')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .join('/')}`;

/** Every HTTP route of the app with who may call it, read from the controllers' decorators. */
@Injectable()
export class RouteCatalog {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  routes(): RouteInfo[] {
    return this.discovery.getControllers().flatMap((wrapper) => {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!type) return [];
      const base: unknown = Reflect.getMetadata(PATH_METADATA, type);
      return this.scanner.getAllMethodNames(type.prototype as object).flatMap((name) => {
        const handler = (type.prototype as Record<string, unknown>)[name] as object;
        const method: unknown = Reflect.getMetadata(METHOD_METADATA, handler);
        if (typeof method !== 'number') return [];
        const targets = [handler as () => void, type];
        const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_METADATA, targets);
        return [
          {
            method: RequestMethod[method] ?? String(method),
            path: joinPath(base, Reflect.getMetadata(PATH_METADATA, handler)),
            public: this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets) === true,
            ...(roles && roles.length > 0 ? { roles } : {}),
          },
        ];
      });
    });
  }
}

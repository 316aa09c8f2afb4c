import {
  BadRequestException,
  Injectable,
  Module,
  PayloadTooLargeException,
  SetMetadata,
  UnsupportedMediaTypeException,
  type CallHandler,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { lingerAfterAnswer } from '@sup/process';
import {
  AuthModule,
  BearerChallenge,
  type AuthenticatedRequest,
  type Authenticator,
} from '@sup/auth';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { HttpErrorFilter, sendError } from './http-errors';

export const ACCEPTS_BODY_METADATA = 'sup:http:accepts-body';
const JSON_MEDIA_TYPE = 'application/json';
/** Paths served without a token: the probes (the guard also needs `@Public()` on them). */
export const PUBLIC_PATH_PREFIX = '/healthz/';

/**
 * The media types a route's body may have, when it is not JSON (an upload). Every other route
 * takes `application/json` only: a form or `text/plain` body, which a browser sends cross-site
 * without asking, is refused with 415 before it can start anything.
 */
export const AcceptsBody = (...mediaTypes: [string, ...string[]]): MethodDecorator =>
  SetMetadata(ACCEPTS_BODY_METADATA, mediaTypes);

export const JSON_LIMIT_METADATA = 'sup:http:json-limit';

/**
 * A JSON body limit of the route's own, in bytes, instead of `HTTP_JSON_LIMIT`: for a route that
 * takes batches (fleet reports) larger than any operator's request.
 */
export const JsonBodyLimit = (bytes: number): MethodDecorator =>
  SetMetadata(JSON_LIMIT_METADATA, bytes);

const mediaType = (req: Request): string | undefined =>
  req.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
const hasBody = (req: Request): boolean =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** 415 for a body (or a declared body type) the route does not take. */
@Injectable()
export class BodyTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    if (ctx.getType() !== 'http') return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const type = mediaType(req);
    if (READS.has(req.method) || (type === undefined && !hasBody(req))) return true;
    const accepted = this.reflector.getAllAndOverride<string[] | undefined>(ACCEPTS_BODY_METADATA, [
      ctx.getHandler(),
      ctx.getClass(),
    ]) ?? [JSON_MEDIA_TYPE];
    if (type !== undefined && accepted.includes(type)) return true;
    throw new UnsupportedMediaTypeException(
      `request body must be ${accepted.join(' or ')}, not ${type ?? 'untyped'}`,
    );
  }
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** A body-parser failure as the 4xx it is, in the ErrorBody shape; anything else is unexpected. */
function bodyError(err: unknown, limitBytes: number): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as BodyParserError;
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500)
    return err instanceof Error ? err : new Error(String(err));
  if (e.type === 'entity.too.large')
    return new PayloadTooLargeException(`request body larger than ${limitBytes} bytes`);
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported')
    return new UnsupportedMediaTypeException('request body must be UTF-8 JSON');
  if (e.type === 'entity.parse.failed')
    return new BadRequestException('request body is not valid JSON (an object or array)');
  return new BadRequestException('request body could not be read');
}

/**
 * Reads a JSON body after the guards have passed, so that only a caller allowed on the route
 * gets its body parsed, and parse errors (400, 413) come after 401, 403 and 415.
 */
type BodyParser = (req: Request, res: Response, next: (err?: unknown) => void) => void;

class JsonBodyInterceptor implements NestInterceptor {
  /** One parser per limit in use: the default and those of `@JsonBodyLimit` routes. */
  private readonly parsers = new Map<number, BodyParser>();

  constructor(private readonly limitBytes: number) {}

  private parser(limit: number): BodyParser {
    let parse = this.parsers.get(limit);
    if (!parse) {
      parse = json({ limit, strict: true, type: JSON_MEDIA_TYPE });
      this.parsers.set(limit, parse);
    }
    return parse;
  }

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (ctx.getType() === 'http') {
      const http = ctx.switchToHttp();
      const own: unknown = Reflect.getMetadata(JSON_LIMIT_METADATA, ctx.getHandler());
      const limit = typeof own === 'number' ? own : this.limitBytes;
      await new Promise<void>((resolve, reject) =>
        this.parser(limit)(http.getRequest<Request>(), http.getResponse<Response>(), (err) =>
          err ? reject(bodyError(err, limit)) : resolve(),
        ),
      );
    }
    return next.handle();
  }
}

/** Authenticates before any body is read, so an anonymous caller never reaches a parser. */
function authenticateFirst(auth: Authenticator, logger: Logger) {
  return (req: Request & AuthenticatedRequest, res: Response, next: NextFunction): void => {
    if (req.path.startsWith(PUBLIC_PATH_PREFIX)) return next();
    auth.authenticate(req.headers.authorization).then(
      (actor) => {
        req.actor = actor;
        next();
      },
      (error: unknown) => {
        if (!(error instanceof BearerChallenge)) return next(error);
        logger.info({ method: req.method, url: req.originalUrl, status: 401 }, error.message);
        res.setHeader('WWW-Authenticate', error.wwwAuthenticate);
        sendError(res, 401, error.message);
      },
    );
  };
}

@Module({ providers: [{ provide: APP_GUARD, useClass: BodyTypeGuard }] })
class BodyTypeModule {}

/**
 * The guards of every route, in this order: token (401) and role (403) from `@Roles`, then the
 * body's media type (415) from `@AcceptsBody`, so that a caller who may not use a route learns
 * nothing about what it takes.
 */
@Module({})
export class HttpEdgeModule {
  static forRoot(authenticator: Authenticator): DynamicModule {
    return { module: HttpEdgeModule, imports: [AuthModule.forRoot(authenticator), BodyTypeModule] };
  }
}

export interface HttpInputOptions {
  authenticator: Authenticator;
  jsonLimitBytes: number;
  logger: Logger;
}

/**
 * The HTTP edge every service shares, in order: authentication before anything is read (401),
 * the guards of HttpEdgeModule (403, 415), the JSON body with its size limit (413) and strict
 * syntax (400), and the error filter. The app is created with `bodyParser: false` so that Nest
 * adds no parser of its own in front of these.
 */
export function configureHttpInput(app: NestExpressApplication, options: HttpInputOptions): void {
  const { authenticator, jsonLimitBytes, logger } = options;
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    lingerAfterAnswer(req, res);
    next();
  });
  app.use(authenticateFirst(authenticator, logger));
  app.useGlobalInterceptors(new JsonBodyInterceptor(jsonLimitBytes));
  app.useGlobalFilters(
    new HttpErrorFilter((err) => logger.error({ err }, 'unhandled request error')),
  );
}

/**
 * A Nest app with the shared HTTP edge (the module must import `HttpEdgeModule`). Services get
 * theirs from `runService`; specs build one around a controller to test the real stack.
 */
export async function createHttpApp(
  module: DynamicModule,
  options: HttpInputOptions,
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  configureHttpInput(app, options);
  return app;
}

import {
  ArgumentsHost,
  BadRequestException,
  Catch,
  HttpException,
  HttpStatus,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import type { ZodTypeAny, z } from 'zod';

/** Parses a request part against a contract schema; a mismatch is a 400 that lists every problem. */
export function parseRequest<S extends ZodTypeAny>(
  schema: S,
  value: unknown,
  what: string,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new BadRequestException({
      message: `invalid ${what}`,
      details: result.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`),
    });
  }
  return result.data as z.infer<S>;
}

/** Writes an error in the ErrorBody shape (also from plain Express middleware, outside Nest). */
export function sendError(
  res: Response,
  status: number,
  message: string,
  details?: string[],
  code?: string,
): void {
  res.status(status).json({
    statusCode: status,
    error: HttpStatus[status] ?? 'Error',
    message,
    ...(details ? { details } : {}),
    ...(code ? { code } : {}),
  });
}

/** Every error leaves as `{statusCode, error, message, details?}` (ErrorBody in the OpenAPI document). */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly onUnexpected: (error: unknown) => void) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // Message handlers report errors to the JetStream transport, never through HTTP filters.
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const obj = typeof body === 'string' ? { message: body } : (body as Record<string, unknown>);
      const message = Array.isArray(obj.message)
        ? obj.message.join('; ')
        : typeof obj.message === 'string'
          ? obj.message
          : exception.message;
      sendError(
        res,
        status,
        message,
        Array.isArray(obj.details) ? (obj.details as string[]) : undefined,
        typeof obj.code === 'string' ? obj.code : undefined,
      );
      return;
    }
    this.onUnexpected(exception);
    sendError(res, 500, 'internal error');
  }
}

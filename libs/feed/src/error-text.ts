/** Reading error objects of any realm (errors from sockets or fetch may fail instanceof under jest). */

export function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
    ? error.code
    : undefined;
}

export type ErrorLike = { message?: unknown; cause?: unknown; errors?: unknown; name?: unknown };

/** Duck-typed: errors from fetch may come from another realm (e.g. under jest), failing instanceof. */
export function asErrorLike(error: unknown): ErrorLike | undefined {
  return typeof error === 'object' && error !== null ? error : undefined;
}

export function messageOf(error: unknown): string {
  const message = asErrorLike(error)?.message;
  return typeof message === 'string' ? message : String(error);
}

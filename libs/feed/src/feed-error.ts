export const FEED_ERROR_CODES = [
  'bad-url',
  'unreachable',
  'not-found',
  'http-error',
  'too-large',
  'path-escape',
  'malformed-index',
  'timeout',
] as const;
export type FeedErrorCode = (typeof FEED_ERROR_CODES)[number];

export interface FeedErrorDetails {
  cause?: unknown;
  /** The HTTP status, for 'http-error' and an HTTP 'not-found'. */
  status?: number;
  /** For 'malformed-index': one "path: message" line per schema problem. */
  issues?: string[];
}

/** Anything that went wrong reading a feed; `message` is meant for an operator and names `url`. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly status?: number;
  readonly issues?: string[];

  constructor(
    readonly code: FeedErrorCode,
    readonly url: string,
    message: string,
    details: FeedErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.status !== undefined) this.status = details.status;
    if (details.issues !== undefined) this.issues = details.issues;
  }
}

export function isFeedError(error: unknown, code?: FeedErrorCode): error is FeedError {
  return error instanceof FeedError && (code === undefined || error.code === code);
}

export const FEED_ERROR_CODES = [
  'bad-url',
  'unreachable',
  'not-found',
  'http-error',
  'too-large',
  'path-escape',
  'timeout',
  // URL policy (FeedUrlPolicy): each names the rule that refused a URL or a redirect hop.
  'url-not-allowed',
  'scheme-not-allowed',
  'address-not-allowed',
  'too-many-redirects',
] as const;
export type FeedErrorCode = (typeof FEED_ERROR_CODES)[number];

export interface FeedErrorDetails {
  cause?: unknown;
  /** The HTTP status, for 'http-error' and an HTTP 'not-found'. */
  status?: number;
}

/** Anything that went wrong reading a feed; `message` is meant for an operator and names `url`. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly status?: number;

  constructor(
    readonly code: FeedErrorCode,
    readonly url: string,
    message: string,
    details: FeedErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.status !== undefined) this.status = details.status;
  }
}

export function isFeedError(error: unknown, code?: FeedErrorCode): error is FeedError {
  return error instanceof FeedError && (code === undefined || error.code === code);
}

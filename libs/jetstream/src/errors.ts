/**
 * Throw from a handler when retrying cannot help (the input can never be processed): the message
 * goes to the dead-letter queue at once instead of burning its remaining deliveries.
 */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/** A publish that still failed after its retries, or failed in a way retrying cannot fix. */
export class PublishError extends Error {
  constructor(
    readonly subject: string,
    readonly msgId: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `publish to ${subject} (msg id ${msgId}) failed after ${attempts} attempt(s): ${errorMessage(cause)}`,
      { cause },
    );
    this.name = 'PublishError';
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String(error.message);
  }
  return String(error);
}

/** Nest's RPC exception filters turn errors into plain `{status, message}` objects; logs want an Error. */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(errorMessage(error), { cause: error });
}

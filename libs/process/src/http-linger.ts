import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long the rest of a refused upload is read and dropped before the connection is cut. */
const LINGER_MS = 2_000;

/**
 * After an answer that went out before the upload was read to its end (a refusal), the rest is
 * read and dropped for a moment, then the connection is cut. Closing at once, with unread bytes,
 * makes the kernel reset the connection, and the reset can destroy the answer before the client
 * (or the gateway) has read it. Nothing of it is stored; the bound keeps a 2 GiB upload from being
 * drained to its end. (The gateway in libs/process does the same on its side.) Installed for every
 * request by the HTTP edge, so a 401, 403, 413 or 415 before the body is read cuts an upload too.
 */
export function lingerAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  res.on('finish', () => {
    if (req.complete) return;
    const cut = setTimeout(() => req.socket.destroy(), LINGER_MS);
    cut.unref();
    req.on('end', () => clearTimeout(cut));
    req.resume();
  });
}

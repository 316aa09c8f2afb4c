import { lookup as dnsLookup } from 'node:dns';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { LookupFunction } from 'node:net';
import { asErrorLike, errnoCode, messageOf } from './error-text';
import { FeedError } from './feed-error';
import { GuardedStream, tooLargeError, type ByteSource } from './guarded-stream';
import { isNonPublicAddress, type FeedUrlPolicy, type UrlClearance } from './url-policy';

/** Redirects followed per request; each hop passes the URL policy again. */
export const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found (DNS lookup failed)',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed by the server',
};

/** The innermost errno-style code of a socket failure (happy eyeballs wraps them in an AggregateError). */
function networkCause(error: unknown): { code?: string; detail: string } {
  let current: unknown = error;
  let innermost: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth += 1) {
    innermost = current;
    const code = errnoCode(current);
    if (code) return { code, detail: messageOf(current) };
    const like = asErrorLike(current);
    if (Array.isArray(like?.errors) && like.errors.length > 0) {
      current = like.errors[0];
      continue;
    }
    current = like?.cause;
  }
  return { detail: messageOf(innermost) };
}

export function networkError(error: unknown, url: string, phase: 'connect' | 'body'): FeedError {
  if (error instanceof FeedError) return error;
  const { code, detail } = networkCause(error);
  if (code === 'ETIMEDOUT') {
    return new FeedError('timeout', url, `${url} did not respond in time`, { cause: error });
  }
  const reason = (code && NETWORK_REASONS[code]) ?? detail;
  const shown = code && !reason.includes(code) ? `${reason} (${code})` : reason;
  return new FeedError(
    'unreachable',
    url,
    phase === 'connect'
      ? `cannot reach ${url}: ${shown}`
      : `connection to ${url} broke while downloading: ${shown}`,
    { cause: error },
  );
}

/**
 * DNS resolution that refuses non-public addresses. It runs when the socket connects, so the
 * address checked is the address used: a name that resolved to a public address for an earlier
 * check and to 127.0.0.1 now (DNS rebinding) is refused here.
 */
function publicOnlyLookup(url: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      if (addresses.length === 0 || addresses.some((a) => isNonPublicAddress(a.address))) {
        const refusal = new FeedError(
          'address-not-allowed',
          url,
          `${url}: its host resolves to a loopback, private or link-local address; refused`,
        );
        return callback(refusal, '', 0);
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * One GET, no redirects followed; resolves with the response head, bounded by timeoutMs. Errors
 * name `named`, the URL the caller asked for (a redirect target is the server's text).
 */
function get(
  url: URL,
  named: string,
  clearance: UrlClearance,
  timeoutMs: number,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      {
        // No keep-alive pool: a pooled socket would skip the lookup check of its next request.
        agent: false,
        ...(clearance.publicAddressOnly ? { lookup: publicOnlyLookup(named) } : {}),
      },
      (response) => {
        clearTimeout(timer);
        resolve(response);
      },
    );
    const timer = setTimeout(() => {
      request.destroy(
        new FeedError('timeout', named, `${named} did not respond within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(networkError(error, named, 'connect'));
    });
  });
}

export interface HttpOpenOptions {
  maxBytes: number;
  limitNote?: string;
  timeoutMs: number;
  policy?: FeedUrlPolicy;
  /** The feed is https: a redirect to plain http is refused. */
  httpsOnly: boolean;
}

/**
 * Streams `url` over http(s), following at most MAX_REDIRECTS redirects by hand: each hop is
 * checked by the URL policy (and its address at connect time) before anything is sent to it.
 * Errors name `url`, never a redirect target or a body: those were read from the server.
 */
export async function openHttp(url: string, options: HttpOpenOptions): Promise<GuardedStream> {
  let current = new URL(url);
  let response: IncomingMessage;
  for (let hop = 0; ; hop += 1) {
    let clearance: UrlClearance;
    try {
      clearance = options.policy?.check(current) ?? { publicAddressOnly: false };
    } catch (error) {
      if (hop === 0 || !(error instanceof FeedError)) throw error;
      throw new FeedError(error.code, url, `${url} redirected to a URL refused (${error.code})`);
    }
    response = await get(current, url, clearance, options.timeoutMs);
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUSES.has(status)) break;
    response.destroy();
    if (hop >= MAX_REDIRECTS) {
      throw new FeedError(
        'too-many-redirects',
        url,
        `${url} redirected more than ${MAX_REDIRECTS} times`,
      );
    }
    current = nextHop(url, current, response.headers.location, options.httpsOnly);
  }
  return streamBody(url, response, options);
}

function nextHop(url: string, current: URL, location: string | undefined, httpsOnly: boolean): URL {
  let next: URL | undefined;
  try {
    next = location ? new URL(location, current) : undefined;
  } catch {
    next = undefined;
  }
  if (!next) throw new FeedError('http-error', url, `${url} redirected without a valid Location`);
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new FeedError('scheme-not-allowed', url, `${url} redirected to a ${next.protocol} URL`);
  }
  if (httpsOnly && next.protocol !== 'https:') {
    throw new FeedError('scheme-not-allowed', url, `${url} redirected from https to plain http`);
  }
  return next;
}

function streamBody(
  url: string,
  response: IncomingMessage,
  options: HttpOpenOptions,
): GuardedStream {
  const status = response.statusCode ?? 0;
  const fail = (error: FeedError): FeedError => {
    response.destroy();
    return error;
  };
  if (status === 404 || status === 410) {
    throw fail(
      new FeedError('not-found', url, `${url} does not exist (HTTP ${status})`, { status }),
    );
  }
  if (status !== 200) {
    // The status text is the server's: not repeated.
    throw fail(new FeedError('http-error', url, `${url} answered HTTP ${status}`, { status }));
  }
  const declared = response.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (Number.isFinite(length) && length > options.maxBytes) {
      throw fail(
        tooLargeError(url, options.maxBytes, options.limitNote, `(Content-Length ${length}) is`),
      );
    }
  }
  const chunks = response[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const source: ByteSource = {
    read: async () => {
      const next = await chunks.next();
      return next.done ? null : next.value;
    },
    close: () => {
      response.destroy();
      return Promise.resolve();
    },
  };
  return new GuardedStream(source, {
    url,
    maxBytes: options.maxBytes,
    limitNote: options.limitNote,
    idleMs: options.timeoutMs,
    mapError: (error) => networkError(error, url, 'body'),
  });
}

import { BlockList, isIP } from 'node:net';
import { FeedError } from './feed-error';

/**
 * Addresses a URL from a request may not reach: loopback, private (RFC 1918, ULA), CGNAT,
 * link-local, unspecified, multicast and reserved ranges. Node's BlockList also matches
 * IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`) against the IPv4 subnets.
 */
const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  // NAT64 and 6to4 embed an IPv4 address that may be private; refusing them all is simpler.
  ['64:ff9b::', 96],
  ['2002::', 16],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

/** True for an address a request-given URL must not reach (see NON_PUBLIC). */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return false;
  return NON_PUBLIC.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'file:': '' };

/** A parsed allow-list entry: compared by scheme, host, port and whole path segments. */
export interface UrlPrefix {
  protocol: string;
  host: string;
  port: string;
  segments: string[];
  /** The host is an IP literal: an operator who lists one means that address, private or not. */
  literalAddress: boolean;
}

function hostOf(url: URL): string {
  // "example.com." and "example.com" name the same host.
  return url.hostname.toLowerCase().replace(/\.$/, '');
}

function segmentsOf(pathname: string): string[] {
  return pathname.split('/').filter((s) => s !== '');
}

/** Parses one allow-list entry; throws a readable Error for configuration errors. */
export function parseUrlPrefix(raw: string): UrlPrefix {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${JSON.stringify(raw)} is not an absolute URL`);
  }
  if (!(url.protocol in DEFAULT_PORTS)) {
    throw new Error(`${JSON.stringify(raw)}: only file:, http: and https: URLs can be allowed`);
  }
  if (url.username || url.password) throw new Error(`${JSON.stringify(raw)} holds credentials`);
  if (url.search || url.hash) throw new Error(`${JSON.stringify(raw)} has a query or fragment`);
  return {
    protocol: url.protocol,
    host: hostOf(url),
    port: url.port || DEFAULT_PORTS[url.protocol],
    segments: segmentsOf(url.pathname),
    literalAddress: isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0,
  };
}

/** Whether `url` lies under `prefix`: same scheme, host and port, and the prefix's path segments first. */
export function underPrefix(url: URL, prefix: UrlPrefix): boolean {
  if (url.protocol !== prefix.protocol || hostOf(url) !== prefix.host) return false;
  if ((url.port || DEFAULT_PORTS[url.protocol]) !== prefix.port) return false;
  const segments = segmentsOf(url.pathname);
  return prefix.segments.every((s, i) => segments[i] === s);
}

export interface FeedUrlPolicyOptions {
  /** FEED_ALLOWED_URL_PREFIXES; when undefined, any public http(s) URL may be used. */
  allowed?: readonly UrlPrefix[];
  /** The operator's own feed (FEED_URL): trusted as configured, private addresses included. */
  trusted?: readonly UrlPrefix[];
  /** FEED_ALLOW_FILE: whether file: URLs may be used at all (and then only under a prefix). */
  allowFile: boolean;
}

/** What a URL that passed the policy may still not do. */
export interface UrlClearance {
  /** The resolved address must be public (checked at connect time, so DNS rebinding fails). */
  publicAddressOnly: boolean;
}

/**
 * Which feed URLs may be read: every URL a sync touches (the base, each redirect hop) passes
 * `check`, which throws FeedError named after the rule that refused.
 */
export class FeedUrlPolicy {
  constructor(private readonly options: FeedUrlPolicyOptions) {}

  check(url: URL): UrlClearance {
    const shown = `${url.protocol}//${url.host}${url.pathname}`;
    if (url.username || url.password) {
      throw new FeedError('bad-url', shown, `credentials in a feed URL are not supported`);
    }
    if (!['http:', 'https:', 'file:'].includes(url.protocol)) {
      throw new FeedError('scheme-not-allowed', shown, `scheme ${url.protocol} is not allowed`);
    }
    if (url.protocol === 'file:' && !this.options.allowFile) {
      throw new FeedError(
        'scheme-not-allowed',
        shown,
        `file: URLs are not allowed (FEED_ALLOW_FILE=false)`,
      );
    }
    const trusted = this.options.trusted?.some((p) => underPrefix(url, p)) ?? false;
    if (trusted) return { publicAddressOnly: false };
    const listed = this.options.allowed?.find((p) => underPrefix(url, p));
    // file: URLs need an explicit prefix even without an allow-list: a directory is not "public".
    if (!listed && (this.options.allowed || url.protocol === 'file:')) {
      throw new FeedError(
        'url-not-allowed',
        shown,
        `${shown} is not under an allowed prefix (FEED_ALLOWED_URL_PREFIXES)`,
      );
    }
    // A listed IP literal is the operator naming that address; a listed host name still has to
    // resolve to a public address, or DNS could point it anywhere.
    const publicAddressOnly = !listed?.literalAddress;
    if (publicAddressOnly && isNonPublicAddress(url.hostname)) {
      throw new FeedError(
        'address-not-allowed',
        shown,
        `${url.hostname} is a loopback, private or link-local address`,
      );
    }
    return { publicAddressOnly };
  }
}

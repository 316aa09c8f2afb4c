import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-sup-signature';
export const TIMESTAMP_HEADER = 'x-sup-timestamp';
export const EVENT_ID_HEADER = 'x-sup-event-id';
export const EVENT_TYPE_HEADER = 'x-sup-event-type';

/** How far a receiver should accept a timestamp from its own clock (replay window). */
export const DEFAULT_TOLERANCE_S = 300;

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. The timestamp is inside the MAC, so a
 * captured delivery cannot be replayed with a fresh timestamp; a receiver refuses old ones.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `sha256=${mac}`;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** What a receiver does (documented in docs/architecture.md): MAC first, then freshness. */
export function verifyWebhook(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  nowS: number;
  toleranceS?: number;
}): VerifyResult {
  const { secret, body, timestamp, signature, nowS } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad timestamp' };
  if (!signature) return { ok: false, reason: 'no signature' };
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature mismatch' };
  }
  if (Math.abs(nowS - Number(timestamp)) > (input.toleranceS ?? DEFAULT_TOLERANCE_S)) {
    return { ok: false, reason: 'timestamp outside the tolerance' };
  }
  return { ok: true };
}

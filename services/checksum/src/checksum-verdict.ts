import { timingSafeEqual } from 'node:crypto';

export type ChecksumVerdict =
  { ok: true } | { ok: false; code: 'size-mismatch' | 'sha256-mismatch'; reason: string };

/** Compares what the vendor published with what was measured over the stored bytes. */
export function checksumVerdict(
  published: { size: number; sha256: string },
  measured: { size: number; sha256: string },
): ChecksumVerdict {
  if (published.size !== measured.size) {
    return {
      ok: false,
      code: 'size-mismatch',
      reason: `artifact is ${measured.size} bytes, the feed published ${published.size}`,
    };
  }
  const a = Buffer.from(published.sha256.toLowerCase(), 'hex');
  const b = Buffer.from(measured.sha256, 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      code: 'sha256-mismatch',
      reason: `SHA-256 of the artifact is ${measured.sha256}, the feed published ${published.sha256}`,
    };
  }
  return { ok: true };
}

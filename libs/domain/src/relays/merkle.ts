import { createHash } from 'node:crypto';

/**
 * The Merkle root a relay reports over the digests it holds, and the control plane computes over
 * the digests it expects: equal roots mean equal sets, so one 32-byte value per report tells
 * whether a relay's content drifted. Leaves and inner nodes hash with different prefixes (0x00,
 * 0x01, as RFC 6962 does) so a leaf can never pass for a node. Input order does not matter: the
 * digests are sorted and de-duplicated first.
 */

const HEX_DIGEST = /^[0-9a-f]{64}$/;
const hash = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** Root of the set of SHA-256 digests (lower-case hex); the root of no digests is SHA-256(""). */
export function merkleRoot(digests: Iterable<string>): string {
  const sorted = [...new Set(digests)].sort();
  for (const d of sorted) {
    if (!HEX_DIGEST.test(d)) throw new Error(`not a SHA-256 hex digest: ${JSON.stringify(d)}`);
  }
  if (sorted.length === 0) return hash().toString('hex');
  let level = sorted.map((d) => hash(LEAF, Buffer.from(d, 'hex')));
  while (level.length > 1) {
    const next: Buffer[] = [];
    // An odd node out is promoted unchanged to the next level.
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? hash(NODE, level[i], level[i + 1]) : level[i]);
    }
    level = next;
  }
  return level[0].toString('hex');
}

export interface ContentDrift {
  /** Expected digests the relay does not hold. */
  missing: string[];
  /** Digests the relay holds that are not expected (unknown, withdrawn or altered files). */
  extra: string[];
}

/** What differs between what a relay holds and what it should hold (both as digest sets). */
export function contentDrift(holds: Iterable<string>, expected: Iterable<string>): ContentDrift {
  const held = new Set(holds);
  const want = new Set(expected);
  return {
    missing: [...want].filter((d) => !held.has(d)).sort(),
    extra: [...held].filter((d) => !want.has(d)).sort(),
  };
}

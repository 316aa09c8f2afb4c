import type { FeedIndex } from '@sup/contracts';
import type { FeedState } from '../state/feed-states';

export type FreshnessRule =
  'index-expired' | 'index-generated-after-expiry' | 'index-rollback' | 'index-sequence-reused';

/**
 * Rollback and freeze protection for a signed index (the TUF threats): an expired index, an
 * older sequence than one already accepted, or a reused sequence with other content is refused.
 * Returns the rule that refuses and why, or null.
 */
export function feedFreshness(
  index: FeedIndex,
  digest: string,
  accepted: FeedState | undefined,
  now: Date,
): { rule: FreshnessRule; message: string } | null {
  // `!(x > now)` rather than `x <= now`: an unreadable date (NaN) counts as expired.
  if (!(Date.parse(index.expiresAt) > now.getTime())) {
    return {
      rule: 'index-expired',
      message: `index.json of feed ${index.feed} expired at ${index.expiresAt}; a stale feed is refused (freeze protection)`,
    };
  }
  if (Date.parse(index.generatedAt) > Date.parse(index.expiresAt)) {
    return {
      rule: 'index-generated-after-expiry',
      message: `index.json of feed ${index.feed} was generated (${index.generatedAt}) after it expires (${index.expiresAt})`,
    };
  }
  if (!accepted) return null;
  if (index.sequence < accepted.sequence) {
    return {
      rule: 'index-rollback',
      message: `index.json of feed ${index.feed} has sequence ${index.sequence}, older than ${accepted.sequence} already accepted (rollback protection)`,
    };
  }
  if (index.sequence === accepted.sequence && digest !== accepted.indexSha256) {
    return {
      rule: 'index-sequence-reused',
      message: `index.json of feed ${index.feed} reuses sequence ${index.sequence} with different content`,
    };
  }
  return null;
}

import type { FeedIndex } from '@sup/contracts';
import { feedFreshness } from './feed-freshness';

const now = new Date('2026-11-28T12:00:00Z');
const index = (over: Partial<FeedIndex> = {}): FeedIndex => ({
  schemaVersion: 1,
  feed: 'acme',
  sequence: 10,
  generatedAt: '2026-11-28T09:00:00Z',
  expiresAt: '2026-12-05T09:00:00Z',
  updates: [],
  ...over,
});
const accepted = (sequence: number, indexSha256 = 'd1') => ({
  sequence,
  indexSha256,
  acceptedAt: now.toISOString(),
});

describe('feedFreshness (rollback and freeze protection)', () => {
  it('accepts a first index, a newer one, and the same index again', () => {
    expect(feedFreshness(index(), 'd1', undefined, now)).toBeNull();
    expect(feedFreshness(index({ sequence: 11 }), 'd2', accepted(10), now)).toBeNull();
    expect(feedFreshness(index(), 'd1', accepted(10, 'd1'), now)).toBeNull();
  });

  it('refuses an expired index', () => {
    const stale = index({ expiresAt: '2026-11-28T11:59:59Z' });
    expect(feedFreshness(stale, 'd1', undefined, now)?.rule).toBe('index-expired');
  });

  it('treats an expiry it cannot read as expired', () => {
    const odd = index({ expiresAt: '2026-12-05T09:00:00+25:00' });
    expect(feedFreshness(odd, 'd1', undefined, now)?.rule).toBe('index-expired');
  });

  it('refuses an index generated after it expires', () => {
    const bad = index({ generatedAt: '2026-12-06T00:00:00Z' });
    expect(feedFreshness(bad, 'd1', undefined, now)?.rule).toBe('index-generated-after-expiry');
  });

  it('refuses an older sequence than one already accepted', () => {
    const older = index({ sequence: 9 });
    expect(feedFreshness(older, 'd0', accepted(10), now)?.rule).toBe('index-rollback');
  });

  it('refuses a reused sequence with different content', () => {
    const refused = feedFreshness(index(), 'other', accepted(10, 'd1'), now);
    expect(refused?.rule).toBe('index-sequence-reused');
    expect(refused?.message).toMatch(/reuses sequence 10/);
  });
});

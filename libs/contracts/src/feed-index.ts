import { z } from 'zod';

/**
 * The signed document at `<feed base>/index.json`. Entries are kept as raw objects here and
 * validated one by one with `FeedEntrySchema`, so one bad entry is rejected on its own instead of
 * refusing the whole feed.
 */
export const FeedIndexSchema = z
  .object({
    schemaVersion: z.literal(1),
    feed: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a feed name such as "acme-active-update"'),
    // A safe integer: past 2^53 two sequences can compare equal, defeating rollback protection.
    sequence: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    generatedAt: z.string().datetime({ offset: true }),
    expiresAt: z.string().datetime({ offset: true }),
    updates: z.array(z.record(z.unknown())).max(10_000),
  })
  .strict();
export type FeedIndex = z.infer<typeof FeedIndexSchema>;

export const FEED_INDEX_FILE = 'index.json';
export const FEED_INDEX_SIGNATURE_FILE = 'index.json.p7s';

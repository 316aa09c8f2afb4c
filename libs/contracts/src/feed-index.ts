import { z } from 'zod';

/**
 * zod's ISO check takes offsets such as "+25:00" that Date cannot read: such an `expiresAt` would
 * compare as NaN and never expire (found by fuzzing), so the date must also parse.
 */
const IndexDateTimeSchema = z
  .string()
  .datetime({ offset: true })
  .refine((s) => Number.isFinite(Date.parse(s)), 'must be a date and time that exists');

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
    generatedAt: IndexDateTimeSchema,
    expiresAt: IndexDateTimeSchema,
    updates: z.array(z.record(z.unknown())).max(10_000),
  })
  .strict();
export type FeedIndex = z.infer<typeof FeedIndexSchema>;

export const FEED_INDEX_FILE = 'index.json';
export const FEED_INDEX_SIGNATURE_FILE = 'index.json.p7s';

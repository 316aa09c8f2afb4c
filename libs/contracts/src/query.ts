import { z } from 'zod';

/**
 * An integer in a query string: decimal digits only, within bounds. Plain coercion took `1e300`,
 * `0x10`, ` 5` and an empty value (as 0), none of which is a page size or an offset.
 */
export const queryInt = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v),
    z
      .number({ invalid_type_error: 'must be a whole number written in decimal digits' })
      .int()
      .min(min)
      .max(max),
  );

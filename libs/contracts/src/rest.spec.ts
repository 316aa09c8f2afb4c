import { ListAuditQuerySchema } from './audit';
import { ListAlertsQuerySchema, ListUpdatesQuerySchema, MAX_QUERY_OFFSET } from './rest';

describe('query numbers', () => {
  it('take decimal digits within bounds, with defaults', () => {
    expect(ListUpdatesQuerySchema.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(ListAlertsQuerySchema.parse({ limit: '500', offset: String(MAX_QUERY_OFFSET) })).toEqual(
      {
        limit: 500,
        offset: MAX_QUERY_OFFSET,
      },
    );
  });

  it.each([
    ['offset', '1e300'],
    ['offset', '-1'],
    ['offset', String(MAX_QUERY_OFFSET + 1)],
    ['offset', '99999999999999999999'],
    ['limit', '-1'],
    ['limit', '0'],
    ['limit', '1e9'],
    ['limit', '1000000000'],
    ['limit', '0x10'],
    ['limit', ' 5'],
    ['limit', '5.5'],
    ['limit', ''],
    ['limit', 'Infinity'],
  ])('refuse %s=%s', (name, value) => {
    expect(ListUpdatesQuerySchema.safeParse({ [name]: value }).success).toBe(false);
    expect(ListAlertsQuerySchema.safeParse({ [name]: value }).success).toBe(false);
  });

  it.each(['1e3', '-1', '0x10', ' 5', '', '99999999999999999'])(
    'refuse an audit page cursor or size of %j',
    (value) => {
      expect(ListAuditQuerySchema.safeParse({ after: value }).success).toBe(false);
      expect(ListAuditQuerySchema.safeParse({ limit: value }).success).toBe(false);
    },
  );

  it('take an audit cursor in decimal digits', () => {
    expect(ListAuditQuerySchema.parse({ after: '42', limit: '7' })).toEqual({
      after: 42,
      limit: 7,
    });
  });

  it('refuse a repeated or nested parameter', () => {
    expect(ListUpdatesQuerySchema.safeParse({ limit: ['1', '2'] }).success).toBe(false);
    expect(ListUpdatesQuerySchema.safeParse({ limit: { a: '1' } }).success).toBe(false);
  });
});

import { signWebhook, verifyWebhook } from './webhook-signature';

const SECRET = 'a-webhook-secret-of-some-length';
const BODY = '{"type":"alerts.v1.raised","data":{"alertId":"alert_x_y"}}';
const T = 1_800_000_000;

describe('webhook signature', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed sha256=', () => {
    // Known answer made with the openssl CLI:
    // printf '%s' "1800000000.$BODY" | openssl dgst -sha256 -hmac "$SECRET"
    expect(signWebhook(SECRET, T, BODY)).toBe(
      'sha256=c4b0976755a20f2ee9436ce49efc2a5eca1cd5521c7ea4aa1289a3a72eb4f384',
    );
  });

  const valid = { secret: SECRET, body: BODY, timestamp: String(T), nowS: T + 10 };
  const sig = signWebhook(SECRET, T, BODY);

  it.each<[string, Partial<Parameters<typeof verifyWebhook>[0]>, string | undefined]>([
    ['a genuine delivery', {}, undefined],
    ['another body', { body: BODY.replace('raised', 'resolved') }, 'signature mismatch'],
    ['another timestamp (a replay re-stamped)', { timestamp: String(T + 1) }, 'signature mismatch'],
    ['another secret', { secret: `${SECRET}x` }, 'signature mismatch'],
    ['no signature', { signature: undefined }, 'no signature'],
    ['a non-numeric timestamp', { timestamp: '12a' }, 'bad timestamp'],
    ['an old delivery (replayed)', { nowS: T + 301 }, 'timestamp outside the tolerance'],
    ['a delivery from the future', { nowS: T - 301 }, 'timestamp outside the tolerance'],
  ])('%s', (_, patch, reason) => {
    const result = verifyWebhook({ ...valid, signature: sig, ...patch });
    expect(result).toEqual(reason ? { ok: false, reason } : { ok: true });
  });
});

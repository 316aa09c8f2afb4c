import { FeedError, type FeedErrorCode } from './feed-error';
import {
  FeedUrlPolicy,
  isNonPublicAddress,
  parseUrlPrefix,
  underPrefix,
  type FeedUrlPolicyOptions,
} from './url-policy';

const prefix = parseUrlPrefix('https://vendor.example.com/feeds');

describe('underPrefix', () => {
  it.each([
    'https://vendor.example.com/feeds',
    'https://vendor.example.com/feeds/',
    'https://vendor.example.com/feeds/acme/index.json',
    'https://vendor.example.com:443/feeds/x',
    'https://VENDOR.example.com./feeds/x',
    'https://vendor.example.com/other/../feeds/x',
  ])('allows %s', (url) => {
    expect(underPrefix(new URL(url), prefix)).toBe(true);
  });

  it.each([
    'https://vendor.example.com/feedsx',
    'https://vendor.example.com/feeds%2Fx',
    'https://vendor.example.com/',
    'https://vendor.example.com/feeds/../x',
    'https://vendor.example.com.evil.net/feeds/x',
    'https://evil.net/vendor.example.com/feeds',
    'https://vendor.example.com:8443/feeds/x',
    'http://vendor.example.com/feeds/x',
  ])('refuses %s', (url) => {
    expect(underPrefix(new URL(url), prefix)).toBe(false);
  });

  it('compares file: prefixes by path segments', () => {
    const files = parseUrlPrefix('file:///srv/feeds/');
    expect(underPrefix(new URL('file:///srv/feeds/acme/'), files)).toBe(true);
    expect(underPrefix(new URL('file:///srv/feedsx/'), files)).toBe(false);
    expect(underPrefix(new URL('file:///etc/passwd'), files)).toBe(false);
  });

  it.each(['not a url', 'ftp://x/', 'https://user:pw@x/', 'https://x/?q=1'])(
    'refuses to parse %s as a prefix',
    (raw) => {
      expect(() => parseUrlPrefix(raw)).toThrow();
    },
  );
});

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '64:ff9b::7f00:1',
  ])('%s is not public', (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', 'example.com'])(
    '%s is public (or not an address)',
    (address) => {
      expect(isNonPublicAddress(address)).toBe(false);
    },
  );
});

function refusal(options: FeedUrlPolicyOptions, url: string): FeedErrorCode | 'allowed' {
  try {
    new FeedUrlPolicy(options).check(new URL(url));
    return 'allowed';
  } catch (error) {
    if (error instanceof FeedError) return error.code;
    throw error;
  }
}

describe('FeedUrlPolicy', () => {
  const allowed = [prefix, parseUrlPrefix('http://127.0.0.1:8080/mirror')];
  const trusted = [parseUrlPrefix('http://feeds.internal:9000/acme/')];

  it.each([
    ['https://vendor.example.com/feeds/acme/', 'allowed'],
    ['https://vendor.example.com.evil.net/feeds/', 'url-not-allowed'],
    ['https://vendor.example.com/feedsx/', 'url-not-allowed'],
    ['http://127.0.0.1:8080/mirror/acme/', 'allowed'],
    ['http://127.0.0.1:8081/mirror/', 'url-not-allowed'],
    ['http://feeds.internal:9000/acme/', 'allowed'],
    ['file:///etc/passwd', 'scheme-not-allowed'],
    ['gopher://vendor.example.com/feeds/', 'scheme-not-allowed'],
    ['https://user:secret@vendor.example.com/feeds/', 'bad-url'],
  ])('with an allow-list: %s -> %s', (url, expected) => {
    expect(refusal({ allowed, trusted, allowFile: false }, url)).toBe(expected);
  });

  it.each([
    ['https://vendor.example.com/feeds/', 'allowed'],
    ['http://127.0.0.1:8080/', 'address-not-allowed'],
    ['http://0x7f.1/', 'address-not-allowed'],
    ['http://2130706433/', 'address-not-allowed'],
    ['http://[::ffff:127.0.0.1]/', 'address-not-allowed'],
    ['http://169.254.169.254/latest/', 'address-not-allowed'],
    ['http://[fd12::1]/', 'address-not-allowed'],
    ['http://feeds.internal:9000/acme/x/', 'allowed'],
  ])('without an allow-list: %s -> %s', (url, expected) => {
    expect(refusal({ trusted, allowFile: false }, url)).toBe(expected);
  });

  it('needs FEED_ALLOW_FILE and a prefix for file: URLs', () => {
    const files = [parseUrlPrefix('file:///srv/feeds/')];
    expect(refusal({ allowed: files, allowFile: true }, 'file:///srv/feeds/acme/')).toBe('allowed');
    expect(refusal({ allowed: files, allowFile: true }, 'file:///etc/')).toBe('url-not-allowed');
    expect(refusal({ allowFile: true }, 'file:///etc/')).toBe('url-not-allowed');
    expect(refusal({ allowed: files, allowFile: false }, 'file:///srv/feeds/')).toBe(
      'scheme-not-allowed',
    );
  });

  it('checks the resolved address for listed host names, not for listed IP literals', () => {
    const policy = new FeedUrlPolicy({
      allowed: [parseUrlPrefix('http://localhost:8080/'), parseUrlPrefix('http://127.0.0.1:8080/')],
      allowFile: false,
    });
    expect(policy.check(new URL('http://localhost:8080/x/')).publicAddressOnly).toBe(true);
    expect(policy.check(new URL('http://127.0.0.1:8080/x/')).publicAddressOnly).toBe(false);
  });
});

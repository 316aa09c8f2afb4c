import type { KeyObject } from 'node:crypto';
import type { DigestAlgorithm, SecureDigest } from './algorithms';
import { CmsVerificationError } from './errors';

/**
 * What a verifiable signature may use. Digests are limited to the SecureDigest family on purpose:
 * a policy can narrow the defaults but never re-admit SHA-1 or MD5.
 */
export interface CryptoPolicy {
  readonly allowedDigests: readonly SecureDigest[];
  readonly minRsaBits: number;
  /** OpenSSL curve names as reported by node:crypto (`prime256v1`, `secp384r1`, ...). */
  readonly allowedCurves: readonly string[];
}

export const DEFAULT_CRYPTO_POLICY: CryptoPolicy = Object.freeze({
  allowedDigests: Object.freeze(['sha256', 'sha384', 'sha512'] as const),
  minRsaBits: 2048,
  allowedCurves: Object.freeze(['prime256v1', 'secp384r1', 'secp521r1']),
});

export type KeyDescription =
  { type: 'rsa' | 'rsa-pss'; bits: number } | { type: 'ec'; curve: string };

/** Only RSA, RSA-PSS and EC keys are accepted anywhere in a chain. */
export function describeKey(key: KeyObject, whose: string): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { type: key.asymmetricKeyType, bits: details.modulusLength ?? 0 };
    case 'ec':
      return { type: 'ec', curve: details.namedCurve ?? 'unknown' };
    default:
      throw new CmsVerificationError(
        'unsupported-algorithm',
        `${whose} has an unsupported ${key.asymmetricKeyType ?? 'unknown'} key`,
      );
  }
}

export function keyViolation(
  key: KeyDescription,
  policy: CryptoPolicy,
  whose: string,
): string | undefined {
  if (key.type === 'ec') {
    return policy.allowedCurves.includes(key.curve)
      ? undefined
      : `${whose} uses curve ${key.curve}, allowed: ${policy.allowedCurves.join(', ')}`;
  }
  return key.bits >= policy.minRsaBits
    ? undefined
    : `${whose} has a ${key.bits}-bit RSA key, minimum is ${policy.minRsaBits}`;
}

export function isAllowedDigest(
  digest: DigestAlgorithm,
  policy: CryptoPolicy,
): digest is SecureDigest {
  return (policy.allowedDigests as readonly string[]).includes(digest);
}

export function digestViolation(
  digest: DigestAlgorithm,
  policy: CryptoPolicy,
  what: string,
): string | undefined {
  return isAllowedDigest(digest, policy)
    ? undefined
    : `${what} uses ${digest}, allowed: ${policy.allowedDigests.join(', ')}`;
}

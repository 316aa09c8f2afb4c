export const CMS_VERIFICATION_ERROR_CODES = [
  'empty-signature',
  'malformed-signature',
  'no-signer',
  'unsupported-algorithm',
  'untrusted-chain',
  'certificate-expired',
  'certificate-not-yet-valid',
  'digest-mismatch',
  'bad-signature',
  'policy-violation',
  'certificate-wrong-usage',
  'certificate-revoked',
  'revocation-unavailable',
] as const;
export type CmsVerificationErrorCode = (typeof CMS_VERIFICATION_ERROR_CODES)[number];

/**
 * `policy` means the signature could be checked but the CryptoPolicy forbids what it uses
 * (weak digest, short key, curve); every other failure is a `signature` failure, including a
 * certificate not meant for signing code and revocation: those are about who signed, not how.
 */
export type CmsVerificationStage = 'signature' | 'policy';

export class CmsVerificationError extends Error {
  override readonly name = 'CmsVerificationError';
  readonly stage: CmsVerificationStage;

  constructor(
    readonly code: CmsVerificationErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.stage = code === 'policy-violation' ? 'policy' : 'signature';
  }
}

/** A certificate (PEM or DER) that cannot be decoded. */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
}

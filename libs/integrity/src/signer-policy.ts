import { KEY_USAGE, type CertificateInfo } from './certificate-info';
import { CmsVerificationError } from './errors';
import { OID } from './oids';

/**
 * What the signer certificate must be allowed to do. Strict by default: a vendor signs code
 * with a certificate issued for exactly that, so a TLS or e-mail certificate from the same CA
 * cannot sign updates. CA rules (basicConstraints cA, keyCertSign) are not configurable.
 */
export interface SignerPolicy {
  /**
   * The signer's extendedKeyUsage must list one of these OIDs; empty means the EKU is not
   * checked at all. anyExtendedKeyUsage never satisfies it: it says "whatever", not "code".
   */
  readonly requiredExtendedKeyUsages: readonly string[];
  /**
   * The signer must carry a keyUsage extension with digitalSignature. When false, a missing
   * keyUsage passes and nonRepudiation alone is enough (what RFC 5280 tolerates).
   */
  readonly requireDigitalSignature: boolean;
}

export const DEFAULT_SIGNER_POLICY: SignerPolicy = Object.freeze({
  requiredExtendedKeyUsages: Object.freeze([OID.codeSigning]),
  requireDigitalSignature: true,
});

/** The relaxed policy of earlier versions: no EKU required, keyUsage optional. */
export const LENIENT_SIGNER_POLICY: SignerPolicy = Object.freeze({
  requiredExtendedKeyUsages: Object.freeze([]),
  requireDigitalSignature: false,
});

const USAGE_NAMES: Record<string, string> = {
  [OID.codeSigning]: 'codeSigning',
  [OID.anyExtendedKeyUsage]: 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
};
const usageList = (oids: readonly string[]) =>
  oids.map((o) => (USAGE_NAMES[o] ? `${USAGE_NAMES[o]} (${o})` : o)).join(' or ');

const wrongUsage = (message: string) =>
  new CmsVerificationError('certificate-wrong-usage', message);

/** Throws `certificate-wrong-usage` when the signer's key may not sign code under `policy`. */
export function checkSignerUsage(leaf: CertificateInfo, policy: SignerPolicy): void {
  const signs = leaf.keyUsage?.(KEY_USAGE.digitalSignature) === true;
  if (policy.requireDigitalSignature && !signs) {
    throw wrongUsage(
      leaf.keyUsage
        ? `signer "${leaf.subject}" keyUsage lacks digitalSignature`
        : `signer "${leaf.subject}" has no keyUsage extension (digitalSignature is required)`,
    );
  }
  if (leaf.keyUsage && !signs && !leaf.keyUsage(KEY_USAGE.nonRepudiation)) {
    throw wrongUsage(`signer "${leaf.subject}" keyUsage does not allow digital signatures`);
  }
  const required = policy.requiredExtendedKeyUsages;
  if (required.length === 0) return;
  const eku = leaf.extendedKeyUsage;
  if (!eku) {
    throw wrongUsage(
      `signer "${leaf.subject}" has no extendedKeyUsage extension (required: ${usageList(required)})`,
    );
  }
  if (!required.some((usage) => eku.includes(usage))) {
    const any = eku.includes(OID.anyExtendedKeyUsage) ? ' (anyExtendedKeyUsage is not enough)' : '';
    throw wrongUsage(
      `signer "${leaf.subject}" extendedKeyUsage does not include ${usageList(required)}${any}`,
    );
  }
}

/** Stable text for cache keys: two policies with equal rules give equal text. */
export function signerPolicyKey(policy: SignerPolicy): string {
  return `${[...policy.requiredExtendedKeyUsages].sort().join(',')}|${policy.requireDigitalSignature}`;
}

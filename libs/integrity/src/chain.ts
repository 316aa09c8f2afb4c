import { signatureAlgorithmFrom } from './algorithms';
import { KEY_USAGE, type CertificateInfo } from './certificate-info';
import { describeKey, digestViolation, keyViolation, type CryptoPolicy } from './crypto-policy';
import { CmsVerificationError } from './errors';
import { checkSignerUsage, type SignerPolicy } from './signer-policy';

export interface ChainOptions {
  /** Untrusted certificates that may serve as intermediates (from the CMS and the feed). */
  intermediates: readonly CertificateInfo[];
  anchors: readonly CertificateInfo[];
  now: Date;
  policy: CryptoPolicy;
  signerPolicy: SignerPolicy;
}

export interface TrustedChain {
  /** Leaf first, trust anchor last. */
  path: CertificateInfo[];
  /** Things the policy forbids; reported only once everything else has verified. */
  policyViolations: string[];
}

const MAX_CHAIN_LENGTH = 8;

const untrusted = (message: string) => new CmsVerificationError('untrusted-chain', message);

/**
 * Finds a path from `leaf` to a trust anchor in which every link's signature verifies with
 * node:crypto and every issuer is a CA allowed to sign certificates, then checks validity
 * periods and the leaf's usage. Backtracks so that look-alike issuers (same name, other key)
 * cannot hide the genuine one.
 */
export function buildTrustedChain(leaf: CertificateInfo, options: ChainOptions): TrustedChain {
  const { anchors, intermediates, now, policy, signerPolicy } = options;
  if (anchors.length === 0) throw untrusted('no trust anchors are configured');
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint));
  const candidates = [...anchors, ...intermediates];
  const rejections: string[] = [];
  // Trusted CAs that did sign the certificate below them but may not (no keyCertSign): a
  // clearer verdict than "no chain" when no other path exists.
  const usageProblems: string[] = [];

  const search = (path: CertificateInfo[]): CertificateInfo[] | undefined => {
    const current = path[path.length - 1];
    if (anchorPrints.has(current.fingerprint)) return path;
    if (path.length >= MAX_CHAIN_LENGTH) {
      rejections.push(`chain longer than ${MAX_CHAIN_LENGTH} certificates`);
      return undefined;
    }
    for (const issuer of candidates) {
      if (path.some((c) => c.fingerprint === issuer.fingerprint)) continue;
      const reason = whyNotIssuer(issuer, current, path.length - 1);
      if (reason) {
        // Worth naming only if that CA leads to an anchor; the path through it is never used.
        if (reason === WRONG_USAGE && search([...path, issuer])) {
          usageProblems.push(keyCertSignMissing(issuer));
        } else if (reason !== NOT_RELATED && reason !== WRONG_USAGE) rejections.push(reason);
        continue;
      }
      const found = search([...path, issuer]);
      if (found) return found;
    }
    return undefined;
  };

  const path = search([leaf]);
  if (!path && usageProblems.length > 0) {
    throw new CmsVerificationError(
      'certificate-wrong-usage',
      `no trusted chain from "${leaf.subject}": ${[...new Set(usageProblems)].join('; ')}`,
    );
  }
  if (!path) {
    const detail = rejections.length > 0 ? `: ${[...new Set(rejections)].join('; ')}` : '';
    throw untrusted(`no trusted chain from "${leaf.subject}" to a trust anchor${detail}`);
  }

  for (const cert of path) checkValidity(cert, now);
  checkSignerUsage(leaf, signerPolicy);
  for (const cert of path) {
    if (cert.unhandledCriticalExtensions.length > 0) {
      throw untrusted(
        `"${cert.subject}" has unsupported critical extensions ${cert.unhandledCriticalExtensions.join(', ')}`,
      );
    }
  }
  return { path, policyViolations: chainPolicyViolations(path, policy) };
}

const NOT_RELATED = 'not-related';
const WRONG_USAGE = 'wrong-usage';

const keyCertSignMissing = (issuer: CertificateInfo) =>
  `CA "${issuer.subject}" may not sign certificates (keyUsage lacks keyCertSign)`;

const signedBy = (subject: CertificateInfo, issuer: CertificateInfo): boolean => {
  try {
    return subject.x509.verify(issuer.publicKey);
  } catch {
    return false;
  }
};

function whyNotIssuer(
  issuer: CertificateInfo,
  subject: CertificateInfo,
  certsBelow: number,
): string | undefined {
  // checkIssued compares names canonically plus AKI/SKI and key usage; the DER comparison only
  // decides whether a refusal is worth explaining. Neither proves anything cryptographically.
  const issued = subject.x509.checkIssued(issuer.x509);
  if (!issued && !issuer.subjectDer.equals(subject.issuerDer)) return NOT_RELATED;
  if (!issuer.basicConstraints?.ca) return `"${issuer.subject}" is not a CA certificate`;
  // RFC 5280 4.2.1.3: a CA key that signs certificates must say so; a missing keyUsage is no
  // permission. Only the genuine issuer's signature makes it a usage verdict. (checkIssued
  // already says no for a keyUsage without keyCertSign, so the names matched to get here.)
  if (!issuer.keyUsage?.(KEY_USAGE.keyCertSign)) {
    return signedBy(subject, issuer) ? WRONG_USAGE : keyCertSignMissing(issuer);
  }
  if (!issued) {
    return `"${subject.subject}" names "${issuer.subject}" as issuer but the key identifiers differ`;
  }
  if (!signedBy(subject, issuer))
    return `"${subject.subject}" is not signed by the key of "${issuer.subject}"`;
  const limit = issuer.basicConstraints.pathLength;
  if (limit !== undefined && certsBelow > limit) {
    return `"${issuer.subject}" allows ${limit} intermediate(s) below it, the chain has ${certsBelow}`;
  }
  return undefined;
}

function checkValidity(cert: CertificateInfo, now: Date): void {
  if (now < cert.notBefore) {
    throw new CmsVerificationError(
      'certificate-not-yet-valid',
      `certificate "${cert.subject}" is not valid before ${cert.notBefore.toISOString()}`,
    );
  }
  if (now > cert.notAfter) {
    throw new CmsVerificationError(
      'certificate-expired',
      `certificate "${cert.subject}" expired at ${cert.notAfter.toISOString()}`,
    );
  }
}

function chainPolicyViolations(path: CertificateInfo[], policy: CryptoPolicy): string[] {
  const violations: string[] = [];
  path.forEach((cert, index) => {
    const whose =
      index === 0 ? `signer certificate "${cert.subject}"` : `CA certificate "${cert.subject}"`;
    const keyProblem = keyViolation(describeKey(cert.publicKey, whose), policy, whose);
    if (keyProblem) violations.push(keyProblem);
    // A trust anchor's own signature is never relied upon, so its algorithm does not matter.
    if (index < path.length - 1) {
      const { hash } = signatureAlgorithmFrom(cert.signatureAlgorithm);
      const digestProblem = hash
        ? digestViolation(hash, policy, `the signature on ${whose}`)
        : `the signature on ${whose} names no digest`;
      if (digestProblem) violations.push(digestProblem);
    }
  });
  return violations;
}

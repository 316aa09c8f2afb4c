import type { CertificateInfo } from './certificate-info';
import { crlSignedBy, serialKey, type Crl } from './crl';
import { CmsVerificationError } from './errors';

/**
 * `closed`: a certificate whose revocation status cannot be established is refused
 * (`revocation-unavailable`); `open`: it is accepted and the verification reports a warning.
 */
export type RevocationFailMode = 'closed' | 'open';

/** One configured CRL location (file or URL) and what it offers right now. */
export interface CrlSource {
  /** The file path or URL, as configured. */
  readonly location: string;
  /** The last copy that could be read and parsed; kept when a later refresh fails. */
  readonly crl?: Crl;
  /** Why the latest refresh failed, if it did. */
  readonly error?: string;
}

export interface RevocationOptions {
  readonly sources: readonly CrlSource[];
  readonly failMode: RevocationFailMode;
}

export const NO_REVOCATION: RevocationOptions = Object.freeze({
  sources: Object.freeze([]),
  failMode: 'closed',
});

// Issuers' clocks run slightly ahead of ours at times; a CRL is not refused for that.
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Checks every certificate of a trusted path but the anchor (configuration trusts those) against
 * the CRLs its issuer signed. A CRL counts for an issuer only if the issuer's key verifies it,
 * and only while `now` lies between thisUpdate and nextUpdate. An issuer with a configured CRL
 * but no usable copy, or a source never loaded at all (its issuer is unknown, so it could be
 * anyone's), leaves the status unknown: refused when fail-closed, warned about when fail-open.
 * Revocation always wins over unknown. Returns the warnings of a fail-open acceptance.
 */
export function checkRevocation(
  path: readonly CertificateInfo[],
  options: RevocationOptions,
  now: Date,
): string[] {
  if (options.sources.length === 0) return [];
  const unknown: string[] = [];
  for (const source of options.sources) {
    if (!source.crl) {
      unknown.push(`CRL ${source.location} has never been loaded (${source.error ?? 'pending'})`);
    }
  }
  for (let i = 0; i + 1 < path.length; i++) {
    const problem = checkCertificate(path[i], path[i + 1], options.sources, now);
    if (problem) unknown.push(problem);
  }
  if (unknown.length === 0) return [];
  const message = `revocation status unknown: ${[...new Set(unknown)].join('; ')}`;
  if (options.failMode === 'closed') {
    throw new CmsVerificationError('revocation-unavailable', message);
  }
  return [message];
}

/** Throws `certificate-revoked`; returns why the status is unknown, or undefined when it is known. */
function checkCertificate(
  cert: CertificateInfo,
  issuer: CertificateInfo,
  sources: readonly CrlSource[],
  now: Date,
): string | undefined {
  const issued = sources.flatMap(({ location, crl }) =>
    crl && crlFor(crl, cert, issuer) ? [{ location, crl }] : [],
  );
  if (issued.length === 0) return undefined;
  const problems: string[] = [];
  let usable = 0;
  for (const { location, crl } of issued) {
    const problem = whyUnusable(crl, issuer, now);
    if (problem) {
      problems.push(`CRL ${location} ${problem}`);
      continue;
    }
    usable++;
    if (crl.revoked.has(serialKey(cert.serial))) {
      throw new CmsVerificationError(
        'certificate-revoked',
        `certificate "${cert.subject}" (serial ${cert.x509.serialNumber}) is revoked by the CRL of "${crl.issuer}" from ${location}`,
      );
    }
  }
  return usable > 0
    ? undefined
    : `no usable CRL for "${cert.subject}" from "${issuer.subject}": ${problems.join('; ')}`;
}

/**
 * Whether the CRL speaks for `issuer`: same name and, when both say, the same key identifier.
 * A rotated CA often keeps its name; its predecessor's CRL is not its own, so it is not a
 * "bad CRL for this issuer". Without identifiers the name decides, and the signature must then
 * verify (a tampered CRL never silently counts as no CRL).
 */
function crlFor(crl: Crl, cert: CertificateInfo, issuer: CertificateInfo): boolean {
  if (!crl.issuerDer.equals(cert.issuerDer)) return false;
  const ski = issuer.subjectKeyIdentifier;
  return !crl.authorityKeyId || !ski || crl.authorityKeyId.equals(ski);
}

function whyUnusable(crl: Crl, issuer: CertificateInfo, now: Date): string | undefined {
  if (!crlSignedBy(crl, issuer)) return `is not signed by "${issuer.subject}"`;
  if (crl.thisUpdate.getTime() - CLOCK_SKEW_MS > now.getTime()) {
    return `is not valid before ${crl.thisUpdate.toISOString()}`;
  }
  if (crl.nextUpdate && crl.nextUpdate < now) {
    return `is stale (nextUpdate ${crl.nextUpdate.toISOString()})`;
  }
  return undefined;
}

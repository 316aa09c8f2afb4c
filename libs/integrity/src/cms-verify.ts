import { createHash, createVerify, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import {
  digestFromOid,
  signatureAlgorithmFrom,
  type SecureDigest,
  type SignatureScheme,
} from './algorithms';
import { octetString, oid, time, type Asn1 } from './asn1';
import { pumpBytes, type ByteSource } from './byte-source';
import { certificateInfo, certificateInfoFromDer, type CertificateInfo } from './certificate-info';
import { parseCertificateInfos } from './certificates';
import { buildTrustedChain, type TrustedChain } from './chain';
import { chainCacheKey, defaultChainCache, type ChainCache } from './chain-cache';
import { parseCmsSignedData, type ParsedSignerInfo, type SignerIdentifier } from './cms-parse';
import {
  DEFAULT_CRYPTO_POLICY,
  describeKey,
  digestViolation,
  isAllowedDigest,
  type CryptoPolicy,
} from './crypto-policy';
import { CmsVerificationError } from './errors';
import { verifyOptions } from './key-verify';
import { OID } from './oids';
import { checkRevocation, NO_REVOCATION, type RevocationOptions } from './revocation';
import { DEFAULT_SIGNER_POLICY, type SignerPolicy } from './signer-policy';
import type { StreamHash } from './sha256-stream';
import type { TrustAnchors } from './trust-anchors';

export interface VerifyDetachedCmsInput {
  /** DER (or PEM) CMS SignedData whose content is detached. */
  signature: Buffer;
  /**
   * Opens the signed content. Called at most once, and only after the signer chain (and, with
   * signed attributes, their signature) has verified, so bad signatures cost no content I/O.
   */
  content: () => ByteSource;
  trustAnchors: TrustAnchors;
  /** PEM bundles or DER certificates that may complete the chain, e.g. intermediates from the feed. */
  extraCertificates?: readonly Buffer[];
  policy?: CryptoPolicy;
  /** What the signer certificate must be allowed to do; default {@link DEFAULT_SIGNER_POLICY} (strict). */
  signerPolicy?: SignerPolicy;
  /** CRLs to check every certificate of the chain against; default none. */
  revocation?: RevocationOptions;
  now?: Date;
  /** Stop reading the content past this many bytes (ContentTooLargeError, not a verification error). */
  maxContentBytes?: number;
  /**
   * Where verified signer chains are remembered; default {@link defaultChainCache}, `null` to
   * build the chain every time. The signature itself is verified on every call regardless.
   */
  chainCache?: ChainCache | null;
}

export interface CmsSigner {
  subject: string;
  issuer: string;
  /** Upper-case hex, as OpenSSL prints it. */
  serialNumber: string;
  /** SHA-256 of the certificate DER, lower-case hex. */
  sha256Fingerprint: string;
  notBefore: string;
  notAfter: string;
}

export interface CmsVerification {
  signer: CmsSigner;
  signatureAlgorithm: SignatureScheme;
  digestAlgorithm: SecureDigest;
  signedAttributes: boolean;
  /** Subjects from the signer to the trust anchor. */
  chain: string[];
  /** The signer-asserted signingTime attribute, if any (ISO string). Not a trusted timestamp. */
  signingTime?: string;
  /** SHA-256 and size of the content as streamed during verification, so callers need no second pass. */
  content: StreamHash;
  /** Present when accepted despite an unknown revocation status (fail-open): log these. */
  warnings?: string[];
}

const malformed = (message: string, cause?: unknown) =>
  new CmsVerificationError('malformed-signature', message, cause ? { cause } : undefined);

/**
 * Verifies a detached CMS signature over streamed content: signer chain to a trust anchor, the
 * signer's usage and the chain's revocation status, signed-attribute digest and signature, then
 * the CryptoPolicy. All maths runs in node:crypto.
 * Errors from reading the content propagate unchanged.
 */
export async function verifyDetachedCms(input: VerifyDetachedCmsInput): Promise<CmsVerification> {
  const policy = input.policy ?? DEFAULT_CRYPTO_POLICY;
  const now = input.now ?? new Date();

  const cms = parseCmsSignedData(input.signature);
  if (cms.hasEncapsulatedContent) {
    throw malformed('the signature embeds its content; a detached signature is required');
  }
  if (cms.encapContentType !== OID.data) {
    throw malformed(`the signed content type ${cms.encapContentType} is not id-data`);
  }
  const [signerInfo, ...otherSigners] = cms.signerInfos;
  if (!signerInfo) throw new CmsVerificationError('no-signer', 'the signature has no SignerInfo');
  if (otherSigners.length > 0) {
    throw malformed(`expected exactly one SignerInfo, found ${cms.signerInfos.length}`);
  }

  const digest = digestFromOid(signerInfo.digestAlgorithm.oid);
  const algorithm = signatureAlgorithmFrom(signerInfo.signatureAlgorithm);
  if (algorithm.hash && algorithm.hash !== digest) {
    throw malformed(
      `signature algorithm uses ${algorithm.hash} but the digest algorithm is ${digest}`,
    );
  }

  const pool = uniqueCertificates([
    ...cms.certificates.map((der, i) => embeddedCertificate(der, i)),
    ...(input.extraCertificates ?? []).flatMap((buf, i) => extraCertificates(buf, i)),
  ]);
  const signerCert = findSignerCertificate(signerInfo.sid, pool);
  const chain = trustedChain(signerCert, pool, input, policy, now);
  // Never cached: CRLs change and time passes, and it is a set lookup per certificate.
  const warnings = checkRevocation(chain.path, input.revocation ?? NO_REVOCATION, now);

  const key = signerCert.publicKey;
  const keyOptions = verifyOptions(key, describeKey(key, 'signer certificate'), algorithm);
  const violations = [...chain.policyViolations];
  const digestProblem = digestViolation(digest, policy, 'the signature');
  if (digestProblem) violations.push(digestProblem);

  let content: StreamHash;
  let signingTime: Date | undefined;
  if (signerInfo.signedAttributes) {
    const attributes = readSignedAttributes(signerInfo.signedAttributes.attributes);
    signingTime = attributes.signingTime;
    const signedDer = signerInfo.signedAttributes.der;
    checkSignature(
      () => verifySignature(digest, signedDer, keyOptions, signerInfo.signature),
      violations,
    );
    const contentHash = createHash(digest);
    // Most signatures use SHA-256 already; hash a second time only when they do not.
    const sha256 = digest === 'sha256' ? undefined : createHash('sha256');
    const size = await pumpBytes(
      input.content(),
      (chunk) => {
        contentHash.update(chunk);
        sha256?.update(chunk);
      },
      { maxBytes: input.maxContentBytes },
    );
    const actual = contentHash.digest();
    content = { sha256: sha256 ? sha256.digest('hex') : actual.toString('hex'), size };
    const expected = attributes.messageDigest;
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new CmsVerificationError(
        'digest-mismatch',
        `the content's ${digest} digest does not match the signed messageDigest`,
      );
    }
  } else {
    const verifier = createVerify(digest);
    const sha256 = createHash('sha256');
    const size = await pumpBytes(
      input.content(),
      (chunk) => {
        verifier.update(chunk);
        sha256.update(chunk);
      },
      { maxBytes: input.maxContentBytes },
    );
    content = { sha256: sha256.digest('hex'), size };
    checkSignature(() => verifier.verify(keyOptions, signerInfo.signature), violations);
  }

  if (violations.length > 0 || !isAllowedDigest(digest, policy)) throw policyViolation(violations);

  return {
    signer: describeSigner(signerCert),
    signatureAlgorithm: algorithm.scheme,
    digestAlgorithm: digest,
    signedAttributes: signerInfo.signedAttributes !== undefined,
    chain: chain.path.map((c) => c.subject),
    ...(signingTime ? { signingTime: signingTime.toISOString() } : {}),
    content,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Built once per signer, candidate set, anchor set and policy while every certificate is valid. */
function trustedChain(
  signer: CertificateInfo,
  pool: CertificateInfo[],
  input: VerifyDetachedCmsInput,
  policy: CryptoPolicy,
  now: Date,
): TrustedChain {
  const anchors = input.trustAnchors.certificates;
  const signerPolicy = input.signerPolicy ?? DEFAULT_SIGNER_POLICY;
  const build = () =>
    buildTrustedChain(signer, {
      intermediates: pool,
      anchors: anchors.map(certificateInfo),
      now,
      policy,
      signerPolicy,
    });
  const cache = input.chainCache === undefined ? defaultChainCache : input.chainCache;
  if (!cache) return build();
  const key = chainCacheKey({ signer, candidates: pool, anchors, policy, signerPolicy });
  const cached = cache.get(key, now);
  if (cached) return cached;
  const chain = build();
  cache.set(key, chain);
  return chain;
}

function embeddedCertificate(der: Buffer, index: number): CertificateInfo {
  try {
    return certificateInfoFromDer(der);
  } catch (err) {
    throw malformed(`certificate #${index + 1} in the signature cannot be parsed`, err);
  }
}

function extraCertificates(buf: Buffer, index: number): readonly CertificateInfo[] {
  try {
    return parseCertificateInfos(buf);
  } catch (err) {
    throw malformed(`extra certificate input #${index + 1}: ${(err as Error).message}`, err);
  }
}

function uniqueCertificates(certs: CertificateInfo[]): CertificateInfo[] {
  return [...new Map(certs.map((c) => [c.fingerprint, c])).values()];
}

const withoutLeadingZeros = (serial: Buffer): Buffer => {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return serial.subarray(i);
};

function findSignerCertificate(sid: SignerIdentifier, pool: CertificateInfo[]): CertificateInfo {
  const matches = pool.filter((cert) =>
    sid.kind === 'issuer-and-serial'
      ? cert.issuerDer.equals(sid.issuerDer) &&
        withoutLeadingZeros(cert.serial).equals(withoutLeadingZeros(sid.serial))
      : cert.subjectKeyIdentifier?.equals(sid.keyId) === true,
  );
  const [match, ...others] = matches;
  if (!match) {
    throw new CmsVerificationError(
      'no-signer',
      'the signer certificate is neither in the signature nor among the extra certificates',
    );
  }
  // Two different certificates claiming the same identity: refuse rather than pick one.
  if (others.length > 0) throw malformed('several certificates match the signer identifier');
  return match;
}

/**
 * A runtime may refuse to even compute a forbidden algorithm (e.g. SHA-1 under a system crypto
 * policy); that is still a policy verdict, not a forged signature.
 */
function checkSignature(run: () => boolean, violations: readonly string[]): void {
  let valid = false;
  let failure: unknown;
  try {
    valid = run();
  } catch (err) {
    failure = err;
  }
  if (valid) return;
  if (failure !== undefined && violations.length > 0) throw policyViolation(violations, failure);
  throw new CmsVerificationError(
    'bad-signature',
    failure === undefined
      ? "the signature does not verify with the signer certificate's key"
      : `the signature cannot be verified: ${(failure as Error).message}`,
    failure === undefined ? undefined : { cause: failure },
  );
}

function policyViolation(violations: readonly string[], cause?: unknown): CmsVerificationError {
  return new CmsVerificationError(
    'policy-violation',
    `the signature verifies but the crypto policy forbids it: ${violations.join('; ')}`,
    cause === undefined ? undefined : { cause },
  );
}

function readSignedAttributes(
  attributes: NonNullable<ParsedSignerInfo['signedAttributes']>['attributes'],
): {
  messageDigest: Buffer;
  signingTime?: Date;
} {
  const byType = new Map<string, readonly Asn1[]>();
  for (const attribute of attributes) {
    if (byType.has(attribute.oid))
      throw malformed(`signed attribute ${attribute.oid} appears twice`);
    byType.set(attribute.oid, attribute.values);
  }
  const single = (type: string, name: string): Asn1 | undefined => {
    const values = byType.get(type);
    if (values && values.length !== 1)
      throw malformed(`signed attribute ${name} must have one value`);
    return values?.[0];
  };
  try {
    const contentType = single(OID.contentType, 'contentType');
    const messageDigest = single(OID.messageDigest, 'messageDigest');
    if (!contentType || !messageDigest) {
      throw malformed('signed attributes must include contentType and messageDigest');
    }
    // RFC 5652 11.1: the attribute binds the signature to the type of what was signed.
    if (oid(contentType, 'contentType') !== OID.data) {
      throw malformed('the signed contentType attribute is not id-data');
    }
    const signingTime = single(OID.signingTime, 'signingTime');
    return {
      messageDigest: octetString(messageDigest, 'messageDigest'),
      ...(signingTime ? { signingTime: time(signingTime, 'signingTime') } : {}),
    };
  } catch (err) {
    if (err instanceof CmsVerificationError) throw err;
    throw malformed(`malformed signed attributes: ${(err as Error).message}`, err);
  }
}

const signerDescriptions = new WeakMap<CertificateInfo, Readonly<CmsSigner>>();

/** A fresh object each time (callers may keep or change it), built once per certificate. */
function describeSigner(cert: CertificateInfo): CmsSigner {
  let description = signerDescriptions.get(cert);
  if (!description) {
    description = {
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.x509.serialNumber,
      sha256Fingerprint: cert.fingerprint,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    };
    signerDescriptions.set(cert, description);
  }
  return { ...description };
}

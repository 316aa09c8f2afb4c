import {
  Asn1Error,
  algorithmIdentifier,
  childrenOf,
  isContext,
  sequence,
  smallInteger,
  type AlgorithmIdentifier,
  type Asn1,
} from './asn1';
import { CmsVerificationError } from './errors';
import { OID } from './oids';

/** Digests we can compute; only the SecureDigest subset can ever pass a CryptoPolicy. */
export type DigestAlgorithm = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type SecureDigest = 'sha256' | 'sha384' | 'sha512';
export type SignatureScheme = 'rsa-pkcs1-v1_5' | 'rsa-pss' | 'ecdsa';

const DIGESTS: Record<string, DigestAlgorithm> = {
  [OID.md5]: 'md5',
  [OID.sha1]: 'sha1',
  [OID.sha224]: 'sha224',
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
};

/** Signature OIDs that fix the scheme and, for most, the hash. */
const SIGNATURES: Record<string, { scheme: SignatureScheme; hash?: DigestAlgorithm }> = {
  [OID.rsaEncryption]: { scheme: 'rsa-pkcs1-v1_5' },
  [OID.md5WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'md5' },
  [OID.sha1WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'sha1' },
  [OID.sha224WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'sha224' },
  [OID.sha256WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'sha256' },
  [OID.sha384WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'sha384' },
  [OID.sha512WithRSAEncryption]: { scheme: 'rsa-pkcs1-v1_5', hash: 'sha512' },
  // Some signers (older OpenSSL among them) put the key algorithm here instead of ecdsa-with-*.
  [OID.ecPublicKey]: { scheme: 'ecdsa' },
  [OID.ecdsaWithSha1]: { scheme: 'ecdsa', hash: 'sha1' },
  [OID.ecdsaWithSha224]: { scheme: 'ecdsa', hash: 'sha224' },
  [OID.ecdsaWithSha256]: { scheme: 'ecdsa', hash: 'sha256' },
  [OID.ecdsaWithSha384]: { scheme: 'ecdsa', hash: 'sha384' },
  [OID.ecdsaWithSha512]: { scheme: 'ecdsa', hash: 'sha512' },
};

export interface SignatureAlgorithm {
  scheme: SignatureScheme;
  /** Hash bound by the algorithm identifier itself; undefined for bare rsaEncryption / ecPublicKey. */
  hash?: DigestAlgorithm;
  /** RSASSA-PSS salt length from the parameters. */
  saltLength?: number;
}

const unsupported = (message: string, cause?: unknown) =>
  new CmsVerificationError('unsupported-algorithm', message, cause ? { cause } : undefined);

export function digestFromOid(oid: string): DigestAlgorithm {
  const digest = DIGESTS[oid];
  if (!digest) throw unsupported(`unsupported digest algorithm ${oid}`);
  return digest;
}

export function signatureAlgorithmFrom(id: AlgorithmIdentifier): SignatureAlgorithm {
  if (id.oid === OID.rsassaPss) return pssAlgorithm(id.params);
  const known = SIGNATURES[id.oid];
  if (!known) throw unsupported(`unsupported signature algorithm ${id.oid}`);
  return { ...known };
}

/**
 * RSASSA-PSS-params (RFC 4055). node:crypto always uses MGF1 with the signature hash, so any
 * other mask generation is refused rather than silently verified differently.
 */
function pssAlgorithm(params: Asn1 | undefined): SignatureAlgorithm {
  let hash: DigestAlgorithm = 'sha1';
  let mgfHash: DigestAlgorithm = 'sha1';
  let saltLength = 20;
  try {
    for (const field of sequence(params, 'RSASSA-PSS parameters')) {
      const [inner] = childrenOf(field, 'RSASSA-PSS parameter');
      if (isContext(field, 0)) {
        hash = digestFromOid(algorithmIdentifier(inner, 'PSS hash').oid);
      } else if (isContext(field, 1)) {
        const mgf = algorithmIdentifier(inner, 'PSS mask generation');
        if (mgf.oid !== OID.mgf1) throw unsupported(`unsupported PSS mask generation ${mgf.oid}`);
        mgfHash = digestFromOid(algorithmIdentifier(mgf.params, 'MGF1 hash').oid);
      } else if (isContext(field, 2)) {
        saltLength = smallInteger(inner, 'PSS salt length');
      } else if (isContext(field, 3)) {
        if (smallInteger(inner, 'PSS trailer field') !== 1)
          throw unsupported('unsupported PSS trailer field');
      } else {
        throw new Asn1Error('unexpected field in RSASSA-PSS parameters');
      }
    }
  } catch (err) {
    if (err instanceof CmsVerificationError) throw err;
    throw new CmsVerificationError('malformed-signature', (err as Error).message, { cause: err });
  }
  if (mgfHash !== hash) {
    throw unsupported(`RSA-PSS with MGF1-${mgfHash} and ${hash} digest is not supported`);
  }
  return { scheme: 'rsa-pss', hash, saltLength };
}

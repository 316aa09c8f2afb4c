import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import {
  Asn1Error,
  algorithmIdentifier,
  bitString,
  boolean,
  childrenOf,
  integerBytes,
  isContext,
  octetString,
  oid,
  parseDer,
  sequence,
  smallInteger,
  time,
  toDer,
  Asn1Type,
  isUniversal,
  type AlgorithmIdentifier,
  type Asn1,
} from './asn1';
import { CertificateParseError } from './errors';
import { LruCache } from './lru-cache';
import { OID } from './oids';

/** The parts of a certificate that node's X509Certificate does not expose but chain checks need. */
export interface CertificateInfo {
  readonly x509: X509Certificate;
  /** `x509.publicKey` builds a new KeyObject on every read; this one is built once. */
  readonly publicKey: KeyObject;
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  /** RFC 4514-like, in certificate order: `O=Vendor, CN=Signer`. */
  readonly subject: string;
  readonly issuer: string;
  /** DER of the issuer Name, to match a CMS IssuerAndSerialNumber byte for byte. */
  readonly issuerDer: Buffer;
  readonly subjectDer: Buffer;
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly subjectKeyIdentifier?: Buffer;
  readonly basicConstraints?: { ca: boolean; pathLength?: number };
  /** Bit n is RFC 5280 KeyUsage bit n (0 = digitalSignature, 5 = keyCertSign). */
  readonly keyUsage?: (bit: number) => boolean;
  readonly extendedKeyUsage?: readonly string[];
  /** Critical extensions this library does not process; RFC 5280 says such a certificate must be rejected. */
  readonly unhandledCriticalExtensions: readonly string[];
}

export const KEY_USAGE = { digitalSignature: 0, nonRepudiation: 1, keyCertSign: 5 } as const;

const HANDLED_EXTENSIONS = new Set<string>([
  OID.subjectKeyIdentifier,
  OID.keyUsage,
  OID.subjectAltName,
  OID.issuerAltName,
  OID.basicConstraints,
  OID.crlDistributionPoints,
  OID.certificatePolicies,
  OID.authorityKeyIdentifier,
  OID.extKeyUsage,
  OID.authorityInfoAccess,
]);

const cache = new WeakMap<X509Certificate, CertificateInfo>();

// Constructing an X509Certificate costs more than verifying an RSA signature, and a feed presents
// the same few certificates with every signature; 1024 covers any realistic set of signers.
const MAX_PARSED_CERTIFICATES = 1024;
const byDerDigest = new LruCache<string, CertificateInfo>(MAX_PARSED_CERTIFICATES);

export const sha256Hex = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex');

export function formatName(name: string): string {
  return name.split('\n').join(', ');
}

/** Parses (once per X509Certificate) the fields chain building needs. */
export function certificateInfo(x509: X509Certificate): CertificateInfo {
  let info = cache.get(x509);
  if (!info) {
    try {
      info = parseCertificate(x509);
    } catch (err) {
      throw new CertificateParseError(
        `certificate "${formatName(x509.subject)}" cannot be parsed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    cache.set(x509, info);
  }
  return info;
}

/**
 * The certificate encoded by `der`, parsed once per distinct input (a bounded cache keyed by the
 * SHA-256 of the bytes, so equal bytes always mean an equal certificate). Throws what
 * `new X509Certificate` or {@link certificateInfo} throws; failures are not cached.
 */
export function certificateInfoFromDer(der: Buffer): CertificateInfo {
  const digest = sha256Hex(der);
  let info = byDerDigest.get(digest);
  if (!info) {
    info = certificateInfo(new X509Certificate(der));
    byDerDigest.set(digest, info);
  }
  return info;
}

function parseCertificate(x509: X509Certificate): CertificateInfo {
  const [tbs, signatureAlgorithm] = sequence(parseDer(x509.raw, 'certificate'), 'Certificate');
  const fields = sequence(tbs, 'TBSCertificate');
  let i = isContext(fields[0], 0) ? 1 : 0;
  const serial = integerBytes(fields[i++], 'serialNumber');
  i++; // inner signature algorithm; the outer one is authoritative and must match it anyway
  const issuer = fields[i++];
  sequence(issuer, 'issuer');
  const issuerDer = toDer(issuer);
  const [notBefore, notAfter] = sequence(fields[i++], 'validity');
  const subject = fields[i++];
  sequence(subject, 'subject');
  i++; // subjectPublicKeyInfo: node:crypto handles keys
  const extensionsField = fields.slice(i).find((f) => isContext(f, 3));
  const extensions = extensionsField
    ? sequence(childrenOf(extensionsField, 'extensions')[0], 'Extensions')
    : [];

  let publicKey: KeyObject | undefined;
  const info: {
    -readonly [K in keyof CertificateInfo]: CertificateInfo[K];
  } = {
    x509,
    // Lazy: node throws for key types it cannot load, and describeKey reports those properly.
    get publicKey() {
      return (publicKey ??= x509.publicKey);
    },
    fingerprint: sha256Hex(x509.raw),
    subject: formatName(x509.subject),
    issuer: formatName(x509.issuer),
    issuerDer,
    subjectDer: toDer(subject),
    serial,
    notBefore: time(notBefore, 'notBefore'),
    notAfter: time(notAfter, 'notAfter'),
    signatureAlgorithm: algorithmIdentifier(signatureAlgorithm, 'signatureAlgorithm'),
    unhandledCriticalExtensions: [],
  };
  const seen = new Set<string>();
  const unhandled: string[] = [];
  for (const extension of extensions) {
    const parts = sequence(extension, 'Extension');
    const id = oid(parts[0], 'extnID');
    const critical = parts.length === 3 ? boolean(parts[1], 'critical') : false;
    const value = parseDer(octetString(parts[parts.length - 1], 'extnValue'), `extension ${id}`);
    if (seen.has(id)) throw new Asn1Error(`duplicate extension ${id}`);
    seen.add(id);
    if (critical && !HANDLED_EXTENSIONS.has(id)) unhandled.push(id);
    switch (id) {
      case OID.subjectKeyIdentifier:
        info.subjectKeyIdentifier = octetString(value, 'subjectKeyIdentifier');
        break;
      case OID.basicConstraints:
        info.basicConstraints = parseBasicConstraints(value);
        break;
      case OID.keyUsage:
        info.keyUsage = parseKeyUsage(value);
        break;
      case OID.extKeyUsage:
        info.extendedKeyUsage = sequence(value, 'extKeyUsage').map((u) => oid(u, 'KeyPurposeId'));
        break;
    }
  }
  info.unhandledCriticalExtensions = unhandled;
  return info;
}

function parseBasicConstraints(value: Asn1): { ca: boolean; pathLength?: number } {
  const fields = sequence(value, 'basicConstraints');
  let ca = false;
  let pathLength: number | undefined;
  for (const field of fields) {
    if (isUniversal(field, Asn1Type.BOOLEAN)) ca = boolean(field, 'cA');
    else pathLength = smallInteger(field, 'pathLenConstraint');
  }
  return pathLength === undefined ? { ca } : { ca, pathLength };
}

function parseKeyUsage(value: Asn1): (bit: number) => boolean {
  const { bytes } = bitString(value, 'keyUsage');
  return (bit) => {
    const byte = bytes[bit >> 3];
    return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
  };
}

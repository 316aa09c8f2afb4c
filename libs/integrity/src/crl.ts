import { verify } from 'node:crypto';
import { signatureAlgorithmFrom } from './algorithms';
import {
  Asn1Error,
  Asn1Type,
  algorithmIdentifier,
  bitString,
  boolean,
  childrenOf,
  integerBytes,
  isContext,
  isUniversal,
  octetString,
  oid,
  parseDer,
  sequence,
  set,
  time,
  toDer,
  type AlgorithmIdentifier,
  type Asn1,
} from './asn1';
import { sha256Hex, type CertificateInfo } from './certificate-info';
import { describeKey } from './crypto-policy';
import { verifyOptions } from './key-verify';
import { decodePem, looksLikePem } from './pem';

/** A certificate revocation list (RFC 5280 section 5), parsed but not yet trusted. */
export interface Crl {
  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprint: string;
  /** Readable issuer name (`O=Vendor, CN=CA`), for messages. */
  readonly issuer: string;
  readonly issuerDer: Buffer;
  /** keyIdentifier of the authorityKeyIdentifier extension: the issuer key's SKI, when given. */
  readonly authorityKeyId?: Buffer;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date;
  /** Serial numbers (upper-case hex, no leading zero octets) of the revoked certificates. */
  readonly revoked: ReadonlySet<string>;
  readonly tbsDer: Buffer;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signature: Buffer;
}

export class CrlParseError extends Error {
  override readonly name = 'CrlParseError';
}

const CRL_EXTENSIONS = {
  authorityKeyIdentifier: '2.5.29.35',
  crlNumber: '2.5.29.20',
} as const;
const ENTRY_EXTENSIONS = {
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
} as const;
// Critical extensions this reader does not implement (issuingDistributionPoint, deltaCRLIndicator,
// certificateIssuer of indirect CRLs) change what a CRL covers: such a CRL is refused, not guessed.
const HANDLED_CRL = new Set<string>(Object.values(CRL_EXTENSIONS));
const HANDLED_ENTRY = new Set<string>(Object.values(ENTRY_EXTENSIONS));

/** Certificate serial as CRLs and certificates are compared: hex without leading zero octets. */
export function serialKey(serial: Buffer): string {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return serial.subarray(i).toString('hex').toUpperCase();
}

/** A DER or PEM (`X509 CRL`) CRL; throws CrlParseError naming what is wrong. */
export function parseCrl(input: Buffer, source: string): Crl {
  try {
    return parseDerCrl(pemOrDer(input));
  } catch (err) {
    throw new CrlParseError(`CRL ${source} is invalid: ${(err as Error).message}`, { cause: err });
  }
}

function pemOrDer(input: Buffer): Buffer {
  if (!looksLikePem(input)) return input;
  const blocks = decodePem(input).filter((b) => b.label === 'X509 CRL');
  if (blocks.length !== 1)
    throw new Asn1Error(`expected one X509 CRL block, found ${blocks.length}`);
  return blocks[0].der;
}

function parseDerCrl(der: Buffer): Crl {
  const [tbs, signatureAlgorithm, signatureValue, ...rest] = sequence(
    parseDer(der, 'CRL'),
    'CertificateList',
  );
  if (rest.length > 0) throw new Asn1Error('CertificateList: unexpected trailing fields');
  const fields = sequence(tbs, 'TBSCertList');
  let i = 0;
  if (isUniversal(fields[i], Asn1Type.INTEGER)) i++; // version
  const inner = algorithmIdentifier(fields[i++], 'TBSCertList signature');
  const outer = algorithmIdentifier(signatureAlgorithm, 'signatureAlgorithm');
  if (inner.oid !== outer.oid) throw new Asn1Error('inner and outer signature algorithms differ');
  const issuer = fields[i++];
  sequence(issuer, 'issuer');
  const thisUpdate = time(fields[i++], 'thisUpdate');
  let nextUpdate: Date | undefined;
  if (isTime(fields[i])) nextUpdate = time(fields[i++], 'nextUpdate');
  const revoked = new Set<string>();
  if (isUniversal(fields[i], Asn1Type.SEQUENCE)) {
    for (const entry of sequence(fields[i++], 'revokedCertificates')) revoked.add(readEntry(entry));
  }
  let authorityKeyId: Buffer | undefined;
  if (isContext(fields[i], 0)) {
    const values = checkExtensions(childrenOf(fields[i++], 'crlExtensions')[0], HANDLED_CRL, 'CRL');
    const aki = values.get(CRL_EXTENSIONS.authorityKeyIdentifier);
    if (aki) authorityKeyId = keyIdentifierOf(aki);
  }
  if (i !== fields.length) throw new Asn1Error('TBSCertList: unexpected fields');
  const { unusedBits, bytes } = bitString(signatureValue, 'signatureValue');
  if (unusedBits !== 0) throw new Asn1Error('signatureValue: unused bits');
  return {
    fingerprint: sha256Hex(der),
    issuer: formatDerName(issuer),
    issuerDer: toDer(issuer),
    ...(authorityKeyId ? { authorityKeyId } : {}),
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
    tbsDer: toDer(tbs),
    signatureAlgorithm: outer,
    signature: Buffer.from(bytes),
  };
}

const isTime = (node: Asn1 | undefined): boolean =>
  isUniversal(node, Asn1Type.UTCTIME) || isUniversal(node, Asn1Type.GENERALIZEDTIME);

function readEntry(entry: Asn1): string {
  const [serial, revocationDate, extensions, ...rest] = sequence(entry, 'revoked certificate');
  if (rest.length > 0) throw new Asn1Error('revoked certificate: unexpected fields');
  time(revocationDate, 'revocationDate');
  if (extensions) checkExtensions(extensions, HANDLED_ENTRY, 'CRL entry');
  return serialKey(integerBytes(serial, 'userCertificate'));
}

/** Refuses unknown critical extensions; returns each extension's value (DER) by OID. */
function checkExtensions(
  node: Asn1 | undefined,
  handled: ReadonlySet<string>,
  what: string,
): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  for (const extension of sequence(node, `${what} extensions`)) {
    const parts = sequence(extension, 'Extension');
    const id = oid(parts[0], 'extnID');
    const critical = parts.length === 3 ? boolean(parts[1], 'critical') : false;
    if (values.has(id)) throw new Asn1Error(`${what} has the extension ${id} twice`);
    values.set(id, octetString(parts[parts.length - 1], 'extnValue'));
    if (critical && !handled.has(id)) {
      throw new Asn1Error(`${what} has the unsupported critical extension ${id}`);
    }
  }
  return values;
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... } */
function keyIdentifierOf(value: Buffer): Buffer | undefined {
  const keyId = sequence(parseDer(value, 'authorityKeyIdentifier'), 'authorityKeyIdentifier').find(
    (field) => isContext(field, 0) && !field.constructed,
  );
  return keyId ? Buffer.from(keyId.content) : undefined;
}

const NAME_LABELS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** `O=Vendor, CN=CA` in certificate order, like CertificateInfo.subject; for messages only. */
function formatDerName(name: Asn1): string {
  return sequence(name, 'Name')
    .flatMap((rdn) => set(rdn, 'RelativeDistinguishedName'))
    .map((attribute) => {
      const [type, value] = sequence(attribute, 'AttributeTypeAndValue');
      const id = oid(type, 'attribute type');
      return `${NAME_LABELS[id] ?? id}=${value?.content.toString('utf8') ?? ''}`;
    })
    .join(', ');
}

const verifiedBy = new WeakMap<Crl, Map<string, boolean>>();

/**
 * Whether `issuer`'s key signed the CRL, with node:crypto; remembered per CRL and issuer since
 * every verification of a certificate from that issuer asks again. SHA-1 and MD5 never verify.
 */
export function crlSignedBy(crl: Crl, issuer: CertificateInfo): boolean {
  let results = verifiedBy.get(crl);
  if (!results) {
    results = new Map<string, boolean>();
    verifiedBy.set(crl, results);
  }
  let valid = results.get(issuer.fingerprint);
  if (valid === undefined) {
    valid = verifyCrlSignature(crl, issuer);
    results.set(issuer.fingerprint, valid);
  }
  return valid;
}

function verifyCrlSignature(crl: Crl, issuer: CertificateInfo): boolean {
  if (!issuer.subjectDer.equals(crl.issuerDer)) return false;
  try {
    const algorithm = signatureAlgorithmFrom(crl.signatureAlgorithm);
    const hash = algorithm.hash;
    if (hash !== 'sha256' && hash !== 'sha384' && hash !== 'sha512') return false;
    const key = issuer.publicKey;
    const options = verifyOptions(key, describeKey(key, 'CRL issuer'), algorithm);
    return verify(hash, crl.tbsDer, options, crl.signature);
  } catch {
    return false;
  }
}

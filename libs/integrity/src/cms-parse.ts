import {
  Asn1Error,
  Asn1Type,
  algorithmIdentifier,
  childrenOf,
  integerBytes,
  isContext,
  isUniversal,
  octetString,
  oid,
  parseDer,
  sequence,
  set,
  toDer,
  toDerAsUniversalSet,
  type AlgorithmIdentifier,
  type Asn1,
} from './asn1';
import { CmsVerificationError } from './errors';
import { OID } from './oids';
import { decodePem, looksLikePem } from './pem';

export type SignerIdentifier =
  | { kind: 'issuer-and-serial'; issuerDer: Buffer; serial: Buffer }
  | { kind: 'subject-key-identifier'; keyId: Buffer };

export interface SignedAttribute {
  oid: string;
  values: readonly Asn1[];
}

export interface ParsedSignerInfo {
  sid: SignerIdentifier;
  digestAlgorithm: AlgorithmIdentifier;
  signedAttributes?: {
    /** The DER the signature covers: the [0] IMPLICIT attributes re-tagged as a SET (RFC 5652 5.4). */
    der: Buffer;
    attributes: SignedAttribute[];
  };
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Buffer;
}

export interface ParsedSignedData {
  encapContentType: string;
  /** True when the SignedData carries its own content, i.e. is not detached. */
  hasEncapsulatedContent: boolean;
  /** DER of every X.509 certificate in the `certificates` field. */
  certificates: Buffer[];
  signerInfos: ParsedSignerInfo[];
}

// A CMS signature is a few KiB; anything far larger is not worth decoding.
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

// What String#trim removes from latin1 text; checked bytewise, it stops at a DER signature's first byte.
const BLANK_BYTES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0]);
const isBlank = (byte: number) => BLANK_BYTES.has(byte);

/** Decodes a DER (or PEM-armoured) ContentInfo holding SignedData. Does not verify anything. */
export function parseCmsSignedData(signature: Buffer): ParsedSignedData {
  if (signature.every(isBlank)) {
    throw new CmsVerificationError('empty-signature', 'the signature file is empty');
  }
  if (signature.length > MAX_SIGNATURE_BYTES) {
    throw new CmsVerificationError(
      'malformed-signature',
      `the signature is ${signature.length} bytes, more than the ${MAX_SIGNATURE_BYTES} accepted for a detached CMS signature`,
    );
  }
  try {
    return parseContentInfo(unarmor(signature));
  } catch (err) {
    if (err instanceof CmsVerificationError) throw err;
    throw new CmsVerificationError(
      'malformed-signature',
      `the signature is not a CMS SignedData structure: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function unarmor(signature: Buffer): Buffer {
  if (!looksLikePem(signature)) return signature;
  const [block, ...more] = decodePem(signature);
  if (!block || more.length > 0) throw new Asn1Error('expected exactly one PEM block');
  return block.der;
}

function parseContentInfo(der: Buffer): ParsedSignedData {
  const [contentType, content, ...rest] = sequence(parseDer(der, 'signature'), 'ContentInfo');
  if (oid(contentType, 'contentType') !== OID.signedData) {
    throw new Asn1Error('ContentInfo does not hold SignedData');
  }
  if (!isContext(content, 0) || rest.length > 0) throw new Asn1Error('malformed ContentInfo');
  const [signedData, ...extra] = childrenOf(content, 'ContentInfo content');
  if (extra.length > 0) throw new Asn1Error('malformed ContentInfo content');
  return parseSignedData(signedData);
}

function parseSignedData(node: Asn1 | undefined): ParsedSignedData {
  const fields = sequence(node, 'SignedData');
  // version, digestAlgorithms: informational only; each SignerInfo names its own digest.
  const [, digestAlgorithms, encap] = fields;
  set(digestAlgorithms, 'digestAlgorithms');
  const [eContentType, eContent] = sequence(encap, 'encapContentInfo');

  let i = 3;
  const certificates: Buffer[] = [];
  if (isContext(fields[i], 0)) {
    for (const choice of childrenOf(fields[i], 'certificates')) {
      // Attribute and "other" certificate formats are tagged [1]..[3] and are of no use here.
      if (isUniversal(choice, Asn1Type.SEQUENCE)) certificates.push(toDer(choice));
    }
    i++;
  }
  if (isContext(fields[i], 1)) i++; // CRLs: revocation is out of scope for detached update signatures
  const signerInfos = set(fields[i], 'signerInfos').map(parseSignerInfo);
  if (fields.length !== i + 1) throw new Asn1Error('unexpected trailing fields in SignedData');

  return {
    encapContentType: oid(eContentType, 'eContentType'),
    hasEncapsulatedContent: eContent !== undefined,
    certificates,
    signerInfos,
  };
}

function parseSignerInfo(node: Asn1): ParsedSignerInfo {
  const fields = sequence(node, 'SignerInfo');
  const [, sidNode, digestNode] = fields;
  let i = 3;
  let signedAttributes: ParsedSignerInfo['signedAttributes'];
  if (isContext(fields[i], 0)) {
    signedAttributes = {
      der: toDerAsUniversalSet(fields[i], 'signedAttrs'),
      attributes: childrenOf(fields[i], 'signedAttrs').map(parseAttribute),
    };
    i++;
  }
  const signatureAlgorithm = algorithmIdentifier(fields[i++], 'signatureAlgorithm');
  const signature = octetString(fields[i++], 'signature');
  if (isContext(fields[i], 1)) i++; // unsigned attributes (e.g. countersignatures) are not trusted
  if (fields.length !== i) throw new Asn1Error('unexpected trailing fields in SignerInfo');

  return {
    sid: parseSignerIdentifier(sidNode),
    digestAlgorithm: algorithmIdentifier(digestNode, 'digestAlgorithm'),
    signedAttributes,
    signatureAlgorithm,
    signature,
  };
}

function parseSignerIdentifier(node: Asn1 | undefined): SignerIdentifier {
  if (isContext(node, 0)) {
    // [0] IMPLICIT SubjectKeyIdentifier: an OCTET STRING under a context tag.
    if (node.constructed) throw new Asn1Error('malformed subjectKeyIdentifier');
    return { kind: 'subject-key-identifier', keyId: Buffer.from(node.content) };
  }
  const [issuer, serial, ...rest] = sequence(node, 'IssuerAndSerialNumber');
  sequence(issuer, 'issuer');
  if (rest.length > 0) throw new Asn1Error('malformed IssuerAndSerialNumber');
  return {
    kind: 'issuer-and-serial',
    issuerDer: toDer(issuer),
    serial: integerBytes(serial, 'serialNumber'),
  };
}

function parseAttribute(node: Asn1): SignedAttribute {
  const [type, values, ...rest] = sequence(node, 'Attribute');
  if (rest.length > 0) throw new Asn1Error('malformed Attribute');
  return { oid: oid(type, 'attrType'), values: set(values, 'attrValues') };
}

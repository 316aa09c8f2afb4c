import forge from 'node-forge';

/**
 * Thin typed layer over forge's ASN.1 decoder: forge gives an untyped tree, these helpers turn
 * every shape mismatch into an Asn1Error that callers map to their own error codes.
 */
export type Asn1 = forge.asn1.Asn1;

export class Asn1Error extends Error {
  override readonly name = 'Asn1Error';
}

const { Class, Type } = forge.asn1;

interface FromDerOptions {
  strict: boolean;
  parseAllBytes: boolean;
  // Off: forge would otherwise guess whether BIT STRING payloads are nested ASN.1.
  decodeBitStrings: boolean;
}
const fromDer = forge.asn1.fromDer as unknown as (
  bytes: forge.util.ByteStringBuffer,
  options: FromDerOptions,
) => Asn1;

export function parseDer(der: Buffer, what: string): Asn1 {
  try {
    return fromDer(forge.util.createBuffer(der.toString('binary')), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
    });
  } catch (err) {
    throw new Asn1Error(`${what} is not valid DER: ${(err as Error).message}`, { cause: err });
  }
}

/** Splits concatenated DER elements, keeping each element's original bytes. */
export function splitDer(der: Buffer, what: string): Buffer[] {
  const buffer = forge.util.createBuffer(der.toString('binary'));
  const parts: Buffer[] = [];
  let offset = 0;
  while (buffer.length() > 0) {
    try {
      fromDer(buffer, { strict: true, parseAllBytes: false, decodeBitStrings: false });
    } catch (err) {
      throw new Asn1Error(`${what} is not valid DER: ${(err as Error).message}`, { cause: err });
    }
    const end = der.length - buffer.length();
    parts.push(der.subarray(offset, end));
    offset = end;
  }
  return parts;
}

export function toDer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

export function isUniversal(node: Asn1 | undefined, type: forge.asn1.Type): node is Asn1 {
  return node !== undefined && node.tagClass === Class.UNIVERSAL && node.type === type;
}

export function isContext(node: Asn1 | undefined, tag: number): node is Asn1 {
  return (
    node !== undefined && node.tagClass === Class.CONTEXT_SPECIFIC && (node.type as number) === tag
  );
}

/** Children of a constructed node, whatever its tag (for IMPLICIT/EXPLICIT context tags). */
export function childrenOf(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !node.constructed || !Array.isArray(node.value)) {
    throw new Asn1Error(`${what}: expected a constructed element`);
  }
  return node.value;
}

export function sequence(node: Asn1 | undefined, what: string): Asn1[] {
  if (!isUniversal(node, Type.SEQUENCE)) throw new Asn1Error(`${what}: expected SEQUENCE`);
  return childrenOf(node, what);
}

export function set(node: Asn1 | undefined, what: string): Asn1[] {
  if (!isUniversal(node, Type.SET)) throw new Asn1Error(`${what}: expected SET`);
  return childrenOf(node, what);
}

function primitive(node: Asn1 | undefined, type: forge.asn1.Type, label: string, what: string) {
  if (!isUniversal(node, type) || typeof node.value !== 'string') {
    throw new Asn1Error(`${what}: expected ${label}`);
  }
  return node.value;
}

export function oid(node: Asn1 | undefined, what: string): string {
  return forge.asn1.derToOid(primitive(node, Type.OID, 'OBJECT IDENTIFIER', what));
}

/** INTEGER content octets, exactly as encoded (big-endian two's complement). */
export function integerBytes(node: Asn1 | undefined, what: string): Buffer {
  return Buffer.from(primitive(node, Type.INTEGER, 'INTEGER', what), 'binary');
}

export function smallInteger(node: Asn1 | undefined, what: string): number {
  const bytes = integerBytes(node, what);
  if (bytes.length === 0 || bytes.length > 4 || (bytes[0] & 0x80) !== 0) {
    throw new Asn1Error(`${what}: expected a small non-negative INTEGER`);
  }
  return bytes.readUIntBE(0, bytes.length);
}

export function boolean(node: Asn1 | undefined, what: string): boolean {
  const value = primitive(node, Type.BOOLEAN, 'BOOLEAN', what);
  if (value.length !== 1) throw new Asn1Error(`${what}: malformed BOOLEAN`);
  return value !== '\x00';
}

export function octetString(node: Asn1 | undefined, what: string): Buffer {
  if (isUniversal(node, Type.OCTETSTRING) && node.constructed) {
    // BER constructed form: the value is the concatenation of the segments.
    return Buffer.concat(childrenOf(node, what).map((part) => octetString(part, what)));
  }
  return Buffer.from(primitive(node, Type.OCTETSTRING, 'OCTET STRING', what), 'binary');
}

export function bitString(
  node: Asn1 | undefined,
  what: string,
): { unusedBits: number; bytes: Buffer } {
  const raw = Buffer.from(primitive(node, Type.BITSTRING, 'BIT STRING', what), 'binary');
  if (raw.length === 0 || raw[0] > 7) throw new Asn1Error(`${what}: malformed BIT STRING`);
  return { unusedBits: raw[0], bytes: raw.subarray(1) };
}

export function time(node: Asn1 | undefined, what: string): Date {
  let date: Date | undefined;
  if (isUniversal(node, Type.UTCTIME) && typeof node.value === 'string') {
    date = forge.asn1.utcTimeToDate(node.value);
  } else if (isUniversal(node, Type.GENERALIZEDTIME) && typeof node.value === 'string') {
    date = forge.asn1.generalizedTimeToDate(node.value);
  }
  if (!date || Number.isNaN(date.getTime())) throw new Asn1Error(`${what}: expected a valid time`);
  return date;
}

export interface AlgorithmIdentifier {
  oid: string;
  /** Absent or NULL parameters are both reported as undefined. */
  params?: Asn1;
}

export function algorithmIdentifier(node: Asn1 | undefined, what: string): AlgorithmIdentifier {
  const [id, params, ...rest] = sequence(node, what);
  if (rest.length > 0) throw new Asn1Error(`${what}: unexpected trailing fields`);
  return {
    oid: oid(id, `${what} algorithm`),
    params: params && !isUniversal(params, Type.NULL) ? params : undefined,
  };
}

/** Re-tags an IMPLICIT [n] SET OF as a universal SET, e.g. for CMS signed attributes. */
export function asUniversalSet(node: Asn1, what: string): Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.SET, true, childrenOf(node, what));
}

export { Type as Asn1Type };

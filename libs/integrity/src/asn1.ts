import forge from 'node-forge';

/**
 * A small DER/BER decoder over Buffers plus typed accessors that turn every shape mismatch into
 * an Asn1Error callers map to their own error codes. It replaced forge's decoder, which converts
 * input to binary strings and cannot say where an element sits: verifying a CMS signature needs
 * the signed attributes and certificates as encoded, and forge had to re-encode them every time.
 * The rules are the ones forge applied in strict mode: definite lengths, or indefinite lengths on
 * constructed elements only; no bytes left over; at most 256 levels deep.
 */
export class Asn1Error extends Error {
  override readonly name = 'Asn1Error';
}

export const Asn1Class = { UNIVERSAL: 0x00, APPLICATION: 0x40, CONTEXT: 0x80, PRIVATE: 0xc0 };

export const Asn1Type = {
  BOOLEAN: 1,
  INTEGER: 2,
  BITSTRING: 3,
  OCTETSTRING: 4,
  NULL: 5,
  OID: 6,
  SEQUENCE: 16,
  SET: 17,
  UTCTIME: 23,
  GENERALIZEDTIME: 24,
} as const;

const MAX_DEPTH = 256;

/** One decoded element. Offsets point into the buffer it was decoded from. */
export class Asn1 {
  constructor(
    /** The decoded buffer; the accessors below read it by offset instead of through views. */
    readonly source: Buffer,
    readonly start: number,
    readonly contentStart: number,
    readonly contentEnd: number,
    /** End of the element, after the end-of-contents octets of an indefinite length. */
    readonly end: number,
    /** One of {@link Asn1Class}. */
    readonly tagClass: number,
    readonly tag: number,
    readonly constructed: boolean,
    /** The children of a constructed element, undefined for a primitive one. */
    readonly children: readonly Asn1[] | undefined,
    /** Every length in the element is definite and minimal, i.e. it is DER-encoded as is. */
    readonly canonical: boolean,
  ) {}

  /** Content octets, as a view into the decoded buffer. */
  get content(): Buffer {
    return this.source.subarray(this.contentStart, this.contentEnd);
  }

  /** The element exactly as encoded (header, content, any end-of-contents octets), as a view. */
  get encoded(): Buffer {
    return this.source.subarray(this.start, this.end);
  }
}

interface Cursor {
  pos: number;
}

function decodeElement(buf: Buffer, cursor: Cursor, limit: number, depth: number): Asn1 {
  if (depth >= MAX_DEPTH) throw new Asn1Error('ASN.1 nesting is too deep');
  const start = cursor.pos;
  if (limit - start < 2) throw new Asn1Error('too few bytes to read an ASN.1 element');
  const first = buf[start];
  const tagClass = first & 0xc0;
  const constructed = (first & 0x20) !== 0;
  const tag = first & 0x1f;
  // Multi-byte tag numbers never occur in certificates or CMS.
  if (tag === 0x1f) throw new Asn1Error('high tag numbers are not supported');
  let pos = start + 1;
  const lengthByte = buf[pos++];
  let length: number | undefined;
  let canonical = true;
  if (lengthByte < 0x80) {
    length = lengthByte;
  } else if (lengthByte === 0x80) {
    if (!constructed) throw new Asn1Error('a primitive element cannot have an indefinite length');
    canonical = false;
  } else {
    const count = lengthByte & 0x7f;
    if (count > 4) throw new Asn1Error(`unsupported ${count}-byte length`);
    if (limit - pos < count) throw new Asn1Error('too few bytes to read an ASN.1 length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++];
    // DER: the shortest form, so no leading zero octet and nothing below 128 in long form.
    if (length < 0x80 || buf[pos - count] === 0) canonical = false;
  }
  const contentStart = pos;
  if (length !== undefined && length > limit - contentStart) {
    throw new Asn1Error('too few bytes to read the ASN.1 value');
  }

  if (!constructed) {
    cursor.pos = contentStart + (length ?? 0);
    return new Asn1(
      buf,
      start,
      contentStart,
      cursor.pos,
      cursor.pos,
      tagClass,
      tag,
      false,
      undefined,
      canonical,
    );
  }

  const children: Asn1[] = [];
  cursor.pos = contentStart;
  let contentEnd: number;
  if (length === undefined) {
    for (;;) {
      if (limit - cursor.pos < 2) throw new Asn1Error('missing end-of-contents octets');
      if (buf[cursor.pos] === 0 && buf[cursor.pos + 1] === 0) break;
      children.push(decodeElement(buf, cursor, limit, depth + 1));
    }
    contentEnd = cursor.pos;
    cursor.pos += 2;
  } else {
    contentEnd = contentStart + length;
    while (cursor.pos < contentEnd) {
      const child = decodeElement(buf, cursor, contentEnd, depth + 1);
      if (!child.canonical) canonical = false;
      children.push(child);
    }
  }
  return new Asn1(
    buf,
    start,
    contentStart,
    contentEnd,
    cursor.pos,
    tagClass,
    tag,
    true,
    children,
    canonical,
  );
}

export function parseDer(der: Buffer, what: string): Asn1 {
  try {
    const cursor = { pos: 0 };
    const node = decodeElement(der, cursor, der.length, 0);
    if (cursor.pos !== der.length) throw new Asn1Error('unparsed bytes remain after the element');
    return node;
  } catch (err) {
    throw new Asn1Error(`${what} is not valid DER: ${(err as Error).message}`, { cause: err });
  }
}

/** Splits concatenated DER elements, keeping each element's original bytes. */
export function splitDer(der: Buffer, what: string): Buffer[] {
  const parts: Buffer[] = [];
  const cursor = { pos: 0 };
  while (cursor.pos < der.length) {
    try {
      parts.push(decodeElement(der, cursor, der.length, 0).encoded);
    } catch (err) {
      throw new Asn1Error(`${what} is not valid DER: ${(err as Error).message}`, { cause: err });
    }
  }
  return parts;
}

/**
 * The DER encoding of `node`, as a copy (it outlives the caller's buffer): the original bytes when
 * they are DER already, otherwise re-encoded with definite, minimal lengths.
 */
export function toDer(node: Asn1): Buffer {
  return node.canonical ? Buffer.from(node.encoded) : reencode(node, node.tagClass | node.tag);
}

/** DER of an IMPLICIT [n] SET OF re-tagged as a universal SET, e.g. CMS signed attributes. */
export function toDerAsUniversalSet(node: Asn1, what: string): Buffer {
  childrenOf(node, what);
  const der = toDer(node);
  der[0] = 0x20 | Asn1Type.SET;
  return der;
}

function reencode(node: Asn1, identifier: number): Buffer {
  const content = node.children ? Buffer.concat(node.children.map((c) => toDer(c))) : node.content;
  return Buffer.concat([
    Buffer.from([identifier | (node.constructed ? 0x20 : 0)]),
    encodeLength(content.length),
    content,
  ]);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function isUniversal(node: Asn1 | undefined, type: number): node is Asn1 {
  return node !== undefined && node.tagClass === Asn1Class.UNIVERSAL && node.tag === type;
}

export function isContext(node: Asn1 | undefined, tag: number): node is Asn1 {
  return node !== undefined && node.tagClass === Asn1Class.CONTEXT && node.tag === tag;
}

/** Children of a constructed node, whatever its tag (for IMPLICIT/EXPLICIT context tags). */
export function childrenOf(node: Asn1 | undefined, what: string): readonly Asn1[] {
  if (!node?.children) throw new Asn1Error(`${what}: expected a constructed element`);
  return node.children;
}

export function sequence(node: Asn1 | undefined, what: string): readonly Asn1[] {
  if (!isUniversal(node, Asn1Type.SEQUENCE)) throw new Asn1Error(`${what}: expected SEQUENCE`);
  return childrenOf(node, what);
}

export function set(node: Asn1 | undefined, what: string): readonly Asn1[] {
  if (!isUniversal(node, Asn1Type.SET)) throw new Asn1Error(`${what}: expected SET`);
  return childrenOf(node, what);
}

/** A primitive universal element of `type`. */
function primitive(node: Asn1 | undefined, type: number, label: string, what: string): Asn1 {
  if (!isUniversal(node, type) || node.constructed) {
    throw new Asn1Error(`${what}: expected ${label}`);
  }
  return node;
}

/** The content octets as a new buffer: the caller's buffer may change after decoding. */
const copyContent = (node: Asn1): Buffer => Buffer.from(node.content);

export function oid(node: Asn1 | undefined, what: string): string {
  const { source, contentStart, contentEnd } = primitive(
    node,
    Asn1Type.OID,
    'OBJECT IDENTIFIER',
    what,
  );
  // Base-128 subidentifiers, high bit set on all but their last byte; the first one packs the
  // first two arcs as 40 * arc1 + arc2.
  let text = '';
  let value = 0;
  for (let i = contentStart; i < contentEnd; i++) {
    if (value > 0x3fffffffffff) throw new Asn1Error(`${what}: OBJECT IDENTIFIER arc too large`);
    const b = source[i];
    value = value * 128 + (b & 0x7f);
    if (b & 0x80) continue;
    text +=
      text === ''
        ? value < 80
          ? `${Math.floor(value / 40)}.${value % 40}`
          : `2.${value - 80}`
        : `.${value}`;
    value = 0;
  }
  return text;
}

/** INTEGER content octets, exactly as encoded (big-endian two's complement). */
export function integerBytes(node: Asn1 | undefined, what: string): Buffer {
  return copyContent(primitive(node, Asn1Type.INTEGER, 'INTEGER', what));
}

export function smallInteger(node: Asn1 | undefined, what: string): number {
  const { source, contentStart, contentEnd } = primitive(node, Asn1Type.INTEGER, 'INTEGER', what);
  const length = contentEnd - contentStart;
  if (length === 0 || length > 4 || (source[contentStart] & 0x80) !== 0) {
    throw new Asn1Error(`${what}: expected a small non-negative INTEGER`);
  }
  return source.readUIntBE(contentStart, length);
}

export function boolean(node: Asn1 | undefined, what: string): boolean {
  const { source, contentStart, contentEnd } = primitive(node, Asn1Type.BOOLEAN, 'BOOLEAN', what);
  if (contentEnd - contentStart !== 1) throw new Asn1Error(`${what}: malformed BOOLEAN`);
  return source[contentStart] !== 0;
}

export function octetString(node: Asn1 | undefined, what: string): Buffer {
  if (isUniversal(node, Asn1Type.OCTETSTRING) && node.constructed) {
    // BER constructed form: the value is the concatenation of the segments.
    return Buffer.concat(childrenOf(node, what).map((part) => octetString(part, what)));
  }
  return copyContent(primitive(node, Asn1Type.OCTETSTRING, 'OCTET STRING', what));
}

export function bitString(
  node: Asn1 | undefined,
  what: string,
): { unusedBits: number; bytes: Buffer } {
  const raw = copyContent(primitive(node, Asn1Type.BITSTRING, 'BIT STRING', what));
  if (raw.length === 0 || raw[0] > 7) throw new Asn1Error(`${what}: malformed BIT STRING`);
  return { unusedBits: raw[0], bytes: raw.subarray(1) };
}

// YYMMDDhhmmssZ, the form RFC 5280 and OpenSSL use; other forms go through forge.
const PLAIN_UTC_TIME = /^\d{12}Z$/;

/** What forge's utcTimeToDate returns, without its general-purpose parsing for the usual form. */
function utcTimeToDate(text: string): Date {
  if (!PLAIN_UTC_TIME.test(text)) return forge.asn1.utcTimeToDate(text);
  const two = (at: number) => (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
  const yy = two(0);
  return new Date(
    Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, two(2) - 1, two(4), two(6), two(8), two(10)),
  );
}

export function time(node: Asn1 | undefined, what: string): Date {
  let date: Date | undefined;
  if (isUniversal(node, Asn1Type.UTCTIME) && !node.constructed) {
    date = utcTimeToDate(node.source.toString('latin1', node.contentStart, node.contentEnd));
  } else if (isUniversal(node, Asn1Type.GENERALIZEDTIME) && !node.constructed) {
    date = forge.asn1.generalizedTimeToDate(
      node.source.toString('latin1', node.contentStart, node.contentEnd),
    );
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
    params: params && !isUniversal(params, Asn1Type.NULL) ? params : undefined,
  };
}

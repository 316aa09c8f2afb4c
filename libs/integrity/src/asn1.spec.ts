import forge from 'node-forge';
import {
  Asn1Error,
  Asn1Type,
  childrenOf,
  integerBytes,
  isUniversal,
  octetString,
  oid,
  parseDer,
  sequence,
  splitDer,
  time,
  toDer,
  toDerAsUniversalSet,
} from './asn1';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('parseDer', () => {
  it('decodes nested elements and gives each one its original bytes', () => {
    const der = hex('30 0a 02 01 05 30 05 06 03 2b 06 01');
    const root = parseDer(der, 'test');
    const [int, inner] = sequence(root, 'root');
    expect(integerBytes(int, 'int')).toEqual(hex('05'));
    expect(oid(sequence(inner, 'inner')[0], 'oid')).toBe('1.3.6.1');
    expect(inner?.encoded).toEqual(hex('30 05 06 03 2b 06 01'));
    expect(root.canonical).toBe(true);
  });

  it('returns DER as a copy when it is already DER', () => {
    const der = hex('30 03 02 01 05');
    const copy = toDer(parseDer(der, 'test'));
    expect(copy).toEqual(der);
    copy[4] = 9;
    expect(der[4]).toBe(5);
  });

  it('reads indefinite lengths and re-encodes them as DER', () => {
    const ber = hex('30 80 02 01 05 30 80 04 02 aa bb 00 00 00 00');
    const root = parseDer(ber, 'test');
    expect(root.canonical).toBe(false);
    const [, inner] = sequence(root, 'root');
    expect(octetString(childrenOf(inner, 'inner')[0], 'octets')).toEqual(hex('aa bb'));
    expect(toDer(root)).toEqual(hex('30 09 02 01 05 30 04 04 02 aa bb'));
  });

  it('re-encodes non-minimal lengths', () => {
    const root = parseDer(hex('30 81 05 04 82 00 01 ff'), 'test');
    expect(root.canonical).toBe(false);
    expect(toDer(root)).toEqual(hex('30 03 04 01 ff'));
  });

  it('re-encodes lengths of 128 bytes and more in long form', () => {
    const content = Buffer.alloc(300, 7);
    const ber = Buffer.concat([hex('30 80 04 82 01 2c'), content, hex('00 00')]);
    const der = toDer(parseDer(ber, 'test'));
    expect(der.subarray(0, 8)).toEqual(hex('30 82 01 30 04 82 01 2c'));
    expect(der.length).toBe(4 + 4 + 300);
  });

  it('joins the segments of a constructed OCTET STRING', () => {
    const node = parseDer(hex('24 80 04 01 aa 04 02 bb cc 00 00'), 'test');
    expect(isUniversal(node, Asn1Type.OCTETSTRING)).toBe(true);
    expect(octetString(node, 'octets')).toEqual(hex('aa bb cc'));
  });

  it.each([
    ['a truncated value', '30 05 02 01'],
    ['a truncated long-form length', '04 82 01'],
    ['bytes after the element', '02 01 05 00'],
    ['a primitive element of indefinite length', '04 80 aa 00 00'],
    ['missing end-of-contents octets', '30 80 02 01 05'],
    ['a high tag number', '1f 22 01 00'],
    ['a 5-byte length', '04 85 00 00 00 00 01 aa'],
    ['a lone byte', '30'],
  ])('rejects %s', (_label, bytes) => {
    expect(() => parseDer(hex(bytes), 'test')).toThrow(Asn1Error);
  });

  it('refuses nesting deeper than 256 levels', () => {
    // SEQUENCE of indefinite length `depth` times, then the matching end-of-contents octets.
    const deep = (depth: number) =>
      Buffer.concat([
        Buffer.from(Array.from({ length: depth }, () => [0x30, 0x80]).flat()),
        Buffer.alloc(depth * 2, 0),
      ]);
    expect(() => parseDer(deep(256), 'test')).not.toThrow();
    expect(() => parseDer(deep(257), 'test')).toThrow(/too deep/);
  });
});

describe('helpers', () => {
  it('splits concatenated elements', () => {
    expect(splitDer(hex('02 01 05 30 80 05 00 00 00 04 00'), 'test')).toEqual([
      hex('02 01 05'),
      hex('30 80 05 00 00 00'),
      hex('04 00'),
    ]);
    expect(() => splitDer(hex('02 01 05 30'), 'test')).toThrow(Asn1Error);
  });

  it('decodes object identifiers', () => {
    expect(oid(parseDer(hex('06 09 2a 86 48 86 f7 0d 01 07 02'), 't'), 'oid')).toBe(
      '1.2.840.113549.1.7.2',
    );
    expect(oid(parseDer(hex('06 02 88 37'), 't'), 'oid')).toBe('2.999');
    expect(oid(parseDer(hex('06 03 55 1d 25'), 't'), 'oid')).toBe('2.5.29.37');
  });

  it('re-tags an implicit [0] as a universal SET without touching the input', () => {
    const der = hex('a0 03 02 01 05');
    expect(toDerAsUniversalSet(parseDer(der, 'test'), 'attrs')).toEqual(hex('31 03 02 01 05'));
    expect(der[0]).toBe(0xa0);
  });

  it('reads UTCTime and GeneralizedTime', () => {
    const utc = Buffer.concat([hex('17 0d'), Buffer.from('250102030405Z')]);
    expect(time(parseDer(utc, 't'), 'time').toISOString()).toBe('2025-01-02T03:04:05.000Z');
    const general = Buffer.concat([hex('18 0f'), Buffer.from('20510102030405Z')]);
    expect(time(parseDer(general, 't'), 'time').toISOString()).toBe('2051-01-02T03:04:05.000Z');
    expect(() => time(parseDer(hex('02 01 05'), 't'), 'time')).toThrow(Asn1Error);
  });

  it.each(['491231235959Z', '500101000000Z', '250231000000Z', '2501020304Z', '250102030405+0130'])(
    'reads UTCTime %s as forge does',
    (text) => {
      const der = Buffer.concat([Buffer.from([0x17, text.length]), Buffer.from(text)]);
      expect(time(parseDer(der, 't'), 'time')).toEqual(forge.asn1.utcTimeToDate(text));
    },
  );
});

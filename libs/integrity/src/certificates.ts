import type { X509Certificate } from 'node:crypto';
import { splitDer } from './asn1';
import { certificateInfoFromDer, sha256Hex, type CertificateInfo } from './certificate-info';
import { CertificateParseError } from './errors';
import { LruCache } from './lru-cache';
import { decodePem, looksLikePem } from './pem';

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

// Services pass the same intermediate bundles with every verification; decoding PEM or splitting
// DER again each time is wasted work. Keyed by the SHA-256 of the input bytes.
const MAX_PARSED_INPUTS = 256;
const byInputDigest = new LruCache<string, readonly CertificateInfo[]>(MAX_PARSED_INPUTS);

/**
 * Certificates from a PEM bundle (non-certificate blocks are skipped) or from one or more
 * concatenated DER certificates. Each is fully parsed up front so bad input fails here.
 */
export function parseCertificates(input: Buffer | string): X509Certificate[] {
  return parseCertificateInfos(input).map((info) => info.x509);
}

/** {@link parseCertificates} with the parsed fields; byte inputs are parsed once (bounded cache). */
export function parseCertificateInfos(input: Buffer | string): readonly CertificateInfo[] {
  if (typeof input === 'string') return parseUncached(input);
  const digest = sha256Hex(input);
  let infos = byInputDigest.get(digest);
  if (!infos) {
    infos = Object.freeze(parseUncached(input));
    byInputDigest.set(digest, infos);
  }
  return infos;
}

function parseUncached(input: Buffer | string): CertificateInfo[] {
  let ders: Buffer[];
  try {
    ders = looksLikePem(input)
      ? decodePem(input)
          .filter((block) => CERTIFICATE_LABELS.has(block.label))
          .map((block) => block.der)
      : splitDer(typeof input === 'string' ? Buffer.from(input, 'latin1') : input, 'certificate');
  } catch (err) {
    throw new CertificateParseError(`cannot decode certificates: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return ders.map((der, index) => {
    try {
      return certificateInfoFromDer(der);
    } catch (err) {
      // certificateInfo explains its own failures; anything else is node refusing the bytes.
      if (err instanceof CertificateParseError) throw err;
      throw new CertificateParseError(
        `certificate #${index + 1} is not a valid X.509 certificate`,
        { cause: err },
      );
    }
  });
}

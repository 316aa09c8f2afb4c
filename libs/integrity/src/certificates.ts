import { X509Certificate } from 'node:crypto';
import { splitDer } from './asn1';
import { certificateInfo } from './certificate-info';
import { CertificateParseError } from './errors';
import { decodePem, looksLikePem } from './pem';

const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

/**
 * Certificates from a PEM bundle (non-certificate blocks are skipped) or from one or more
 * concatenated DER certificates. Each is fully parsed up front so bad input fails here.
 */
export function parseCertificates(input: Buffer | string): X509Certificate[] {
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
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch (err) {
      throw new CertificateParseError(
        `certificate #${index + 1} is not a valid X.509 certificate`,
        {
          cause: err,
        },
      );
    }
    certificateInfo(x509);
    return x509;
  });
}

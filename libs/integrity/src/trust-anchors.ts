import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { certificateInfo } from './certificate-info';
import { parseCertificates } from './certificates';

/** The certificates a signature chain must end in. */
export interface TrustAnchors {
  /** Where the anchors came from (file path or label), for error messages and logs. */
  readonly source: string;
  readonly certificates: readonly X509Certificate[];
}

export type TrustAnchorErrorCode = 'trust-anchors-missing' | 'trust-anchors-empty' | 'trust-anchors-invalid';

export class TrustAnchorError extends Error {
  override readonly name = 'TrustAnchorError';

  constructor(
    readonly code: TrustAnchorErrorCode,
    readonly source: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function parseTrustAnchors(pem: string | Buffer, source = 'inline trust anchors'): TrustAnchors {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  if (text.trim() === '') {
    throw new TrustAnchorError('trust-anchors-empty', source, `trust anchor bundle ${source} is empty`);
  }
  let certificates: X509Certificate[];
  try {
    certificates = parseCertificates(text);
  } catch (err) {
    throw new TrustAnchorError(
      'trust-anchors-invalid',
      source,
      `trust anchor bundle ${source} is invalid: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (certificates.length === 0) {
    throw new TrustAnchorError(
      'trust-anchors-empty',
      source,
      `trust anchor bundle ${source} holds no PEM certificate`,
    );
  }
  const unique = new Map(certificates.map((c) => [certificateInfo(c).fingerprint, c]));
  return Object.freeze({ source, certificates: Object.freeze([...unique.values()]) });
}

/** Synchronous on purpose: trust anchors are read once while configuration loads, before serving. */
export function loadTrustAnchors(pemBundlePath: string): TrustAnchors {
  let text: string;
  try {
    text = readFileSync(pemBundlePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TrustAnchorError(
      'trust-anchors-missing',
      pemBundlePath,
      `cannot read trust anchor bundle ${pemBundlePath}: ${code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  return parseTrustAnchors(text, pemBundlePath);
}

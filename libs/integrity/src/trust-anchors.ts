import type { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { certificateInfo } from './certificate-info';
import { parseCertificates } from './certificates';
import { looksLikePem } from './pem';

/** The certificates a signature chain must end in. */
export interface TrustAnchors {
  /** Where the anchors came from (file path or label), for error messages and logs. */
  readonly source: string;
  readonly certificates: readonly X509Certificate[];
}

export type TrustAnchorErrorCode =
  'trust-anchors-missing' | 'trust-anchors-empty' | 'trust-anchors-invalid';

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

/** PEM bundle (the normal case) or a single DER certificate, as text or bytes. */
export function parseTrustAnchors(
  input: string | Buffer,
  source = 'inline trust anchors',
): TrustAnchors {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  if (text.trim() === '') {
    throw new TrustAnchorError(
      'trust-anchors-empty',
      source,
      `trust anchor bundle ${source} is empty`,
    );
  }
  // A DER certificate starts with a SEQUENCE tag; any other non-PEM content simply holds no anchor.
  const der = Buffer.isBuffer(input) && input[0] === 0x30 && !looksLikePem(input);
  let certificates: X509Certificate[] = [];
  try {
    if (der || looksLikePem(text)) certificates = parseCertificates(der ? input : text);
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
      `trust anchor bundle ${source} holds no certificate`,
    );
  }
  const unique = new Map(certificates.map((c) => [certificateInfo(c).fingerprint, c]));
  return Object.freeze({ source, certificates: Object.freeze([...unique.values()]) });
}

/** Synchronous on purpose: trust anchors are read once while configuration loads, before serving. */
export function loadTrustAnchors(pemBundlePath: string): TrustAnchors {
  let bytes: Buffer;
  try {
    bytes = readFileSync(pemBundlePath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TrustAnchorError(
      'trust-anchors-missing',
      pemBundlePath,
      `cannot read trust anchor bundle ${pemBundlePath}: ${code ?? (err as Error).message}`,
      { cause: err },
    );
  }
  return parseTrustAnchors(bytes, pemBundlePath);
}

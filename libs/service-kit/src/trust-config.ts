import { parseCertificates, parseTrustAnchors, type TrustAnchors } from '@sup/integrity';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The environment of a service that verifies signatures. */
export const TrustEnvShape = {
  TRUST_ANCHORS: z
    .string({ required_error: 'is required: path to a PEM bundle of trusted root certificates' })
    .min(1),
  TRUST_INTERMEDIATES: z.string().optional(),
};

export interface TrustConfig {
  trustAnchors: TrustAnchors;
  /** Extra intermediate certificates (DER) for chains a CMS does not carry in full. */
  intermediates: Buffer[];
}

function read(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `${variable}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

/** Reads TRUST_ANCHORS (and TRUST_INTERMEDIATES) at start-up, so a bad path stops the service at once. */
export function loadTrustConfig(anchorsPath: string, intermediatesPath?: string): TrustConfig {
  const trustAnchors = (() => {
    try {
      return parseTrustAnchors(read('TRUST_ANCHORS', anchorsPath), anchorsPath);
    } catch (error) {
      throw new Error(`TRUST_ANCHORS: ${(error as Error).message}`);
    }
  })();
  const intermediates = intermediatesPath
    ? parseCertificates(read('TRUST_INTERMEDIATES', intermediatesPath)).map((c) =>
        Buffer.from(c.raw),
      )
    : [];
  return { trustAnchors, intermediates };
}

import {
  DEFAULT_CRYPTO_POLICY,
  DEFAULT_SIGNER_POLICY,
  OID,
  parseCertificates,
  parseCrl,
  parseTrustAnchors,
  type CrlSource,
  type CryptoPolicy,
  type TrustAnchors,
  type TrustMaterial,
  type VerificationPolicy,
} from '@sup/integrity';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const MiB = 1024 ** 2;
const DIGESTS = /^(sha256|sha384|sha512)(,(sha256|sha384|sha512))*$/;
const EKU_NAMES: Record<string, string> = { codeSigning: OID.codeSigning };
const EKU_LIST = /^(none|((\d+(\.\d+)+|codeSigning)(,(\d+(\.\d+)+|codeSigning))*))$/;
// http(s) and file: URLs, or a path; any other scheme (ftp:, ldap:) is refused, not read as a path.
const CRL_LOCATION = /^(https?:\/\/\S+|file:\/\/\S+|(?![a-z][a-z0-9+.-]*:)\S+)$/i;

/** The environment of a service that verifies signatures: one policy for every signature. */
export const TrustEnvShape = {
  TRUST_ANCHORS: z
    .string({ required_error: 'is required: path to a PEM bundle of trusted root certificates' })
    .min(1),
  TRUST_INTERMEDIATES: z.string().optional(),
  TRUST_CRLS: z
    .string()
    .refine(
      (v) => v.split(',').every((l) => CRL_LOCATION.test(l.trim())),
      'must be comma-separated CRL file paths or http(s):// URLs',
    )
    .optional(),
  CRL_REFRESH_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  CRL_FAIL_MODE: z.enum(['closed', 'open']).default('closed'),
  CRL_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  CRL_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .max(256 * MiB)
    .default(10 * MiB),
  SIGNER_REQUIRED_EKU: z
    .string()
    .regex(EKU_LIST, 'must be "none" or comma-separated OIDs (or codeSigning)')
    .default(OID.codeSigning),
  SIGNER_REQUIRE_DIGITAL_SIGNATURE: z.enum(['true', 'false']).default('true'),
  CRYPTO_ALLOWED_DIGESTS: z
    .string()
    .regex(DIGESTS, 'must list digests from sha256,sha384,sha512')
    .optional(),
  CRYPTO_MIN_RSA_BITS: z.coerce.number().int().min(1024).max(16384).optional(),
};

export type TrustEnv = z.infer<z.ZodObject<typeof TrustEnvShape>>;

/** Where trust comes from and how it is kept fresh; read by TrustLoader. */
export interface TrustSettings {
  anchorsPath: string;
  intermediatesPath?: string;
  /** CRL file paths and http(s) URLs, in configured order. */
  crlLocations: string[];
  crlRefreshMs: number;
  crlFetchTimeoutMs: number;
  crlMaxBytes: number;
  policy: VerificationPolicy;
  /** Read while configuration loads, so a bad file stops the service at start (exit 2). */
  initial: TrustMaterial;
}

export interface TrustConfig {
  /** Start-up copies, for code that predates reloading; verify through TRUST_STORE instead. */
  trustAnchors: TrustAnchors;
  intermediates: Buffer[];
  trust: TrustSettings;
}

export function readTrustFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `${variable}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

export const isCrlUrl = (location: string): boolean => /^https?:\/\//i.test(location);

/** A `file://` location as a path; other locations unchanged. */
export const crlPath = (location: string): string =>
  location.startsWith('file://') ? fileURLToPath(location) : location;

export function readAnchors(path: string): TrustAnchors {
  try {
    return parseTrustAnchors(readTrustFile('TRUST_ANCHORS', path), path);
  } catch (error) {
    throw new Error(`TRUST_ANCHORS: ${(error as Error).message.replace(/^TRUST_ANCHORS: /, '')}`);
  }
}

export function readIntermediates(path: string | undefined): Buffer[] {
  if (!path) return [];
  try {
    return parseCertificates(readTrustFile('TRUST_INTERMEDIATES', path)).map((c) =>
      Buffer.from(c.raw),
    );
  } catch (error) {
    throw new Error(
      `TRUST_INTERMEDIATES: ${(error as Error).message.replace(/^TRUST_INTERMEDIATES: /, '')}`,
    );
  }
}

/** A CRL file as a source; URLs start empty and are fetched before the service consumes. */
export function readCrlFile(location: string): CrlSource {
  const path = crlPath(location);
  const bytes = readTrustFile('TRUST_CRLS', path);
  try {
    return { location, crl: parseCrl(bytes, path) };
  } catch (error) {
    throw new Error(`TRUST_CRLS: ${(error as Error).message}`);
  }
}

function policyFrom(env: TrustEnv): VerificationPolicy {
  const crypto: CryptoPolicy = {
    ...DEFAULT_CRYPTO_POLICY,
    ...(env.CRYPTO_ALLOWED_DIGESTS
      ? {
          allowedDigests: env.CRYPTO_ALLOWED_DIGESTS.split(',') as CryptoPolicy['allowedDigests'],
        }
      : {}),
    ...(env.CRYPTO_MIN_RSA_BITS ? { minRsaBits: env.CRYPTO_MIN_RSA_BITS } : {}),
  };
  const eku = env.SIGNER_REQUIRED_EKU;
  return {
    crypto,
    signer: {
      ...DEFAULT_SIGNER_POLICY,
      requiredExtendedKeyUsages:
        eku === 'none' ? [] : eku.split(',').map((usage) => EKU_NAMES[usage] ?? usage),
      requireDigitalSignature: env.SIGNER_REQUIRE_DIGITAL_SIGNATURE === 'true',
    },
    revocationFailMode: env.CRL_FAIL_MODE,
  };
}

/**
 * Reads TRUST_ANCHORS, TRUST_INTERMEDIATES and CRL files at start-up, so a bad path stops the
 * service at once; the loader re-reads them later. Throws Error naming the variable.
 */
export function loadTrustConfig(env: TrustEnv): TrustConfig {
  const trustAnchors = readAnchors(env.TRUST_ANCHORS);
  const intermediates = readIntermediates(env.TRUST_INTERMEDIATES);
  const crlLocations = (env.TRUST_CRLS ?? '')
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const crls = crlLocations.map((location) =>
    isCrlUrl(location) ? { location } : readCrlFile(location),
  );
  return {
    trustAnchors,
    intermediates,
    trust: {
      anchorsPath: env.TRUST_ANCHORS,
      ...(env.TRUST_INTERMEDIATES ? { intermediatesPath: env.TRUST_INTERMEDIATES } : {}),
      crlLocations,
      crlRefreshMs: env.CRL_REFRESH_MS,
      crlFetchTimeoutMs: env.CRL_FETCH_TIMEOUT_MS,
      crlMaxBytes: env.CRL_MAX_BYTES,
      policy: policyFrom(env),
      initial: { anchors: trustAnchors, intermediates, crls },
    },
  };
}

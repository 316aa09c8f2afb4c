import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, keyIdOf } from '@sup/audit';

/** What the control plane attests about one published update (catalog `provenance.record`). */
export interface ProvenanceRecord {
  updateId: string;
  sha256: string;
  size: number;
  signer: { subject: string; sha256Fingerprint: string };
  /** Each check the update passed, and when: checksum-verified, signature-validated, published. */
  checks: { name: string; passedAt: string }[];
  issuedAt: string;
}

export interface SignedProvenance {
  record: ProvenanceRecord;
  /** Base64 Ed25519 signature over the canonical JSON of `record`. */
  signature: string;
  /** SHA-256 of the signing key's SubjectPublicKeyInfo (DER), as `GET /v1/provenance/key` names it. */
  keyId: string;
}

/** The bytes a provenance signature covers: the record's canonical JSON (sorted keys, no spaces). */
export const provenanceSignedBytes = (record: ProvenanceRecord): Buffer =>
  Buffer.from(canonicalJson(record), 'utf8');

export function signProvenance(record: ProvenanceRecord, privateKey: KeyObject): SignedProvenance {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`provenance is signed with Ed25519, got a ${privateKey.asymmetricKeyType} key`);
  }
  return {
    record,
    signature: sign(null, provenanceSignedBytes(record), privateKey).toString('base64'),
    keyId: keyIdOf(privateKey),
  };
}

/** Whether `provenance` was signed by `publicKey` (a KeyObject or SPKI PEM) over exactly its record. */
export function verifyProvenance(
  provenance: SignedProvenance,
  publicKey: KeyObject | string,
): boolean {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  if (key.asymmetricKeyType !== 'ed25519' || keyIdOf(key) !== provenance.keyId) return false;
  try {
    return verify(
      null,
      provenanceSignedBytes(provenance.record),
      key,
      Buffer.from(provenance.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

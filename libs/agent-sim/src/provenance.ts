import { canonicalJson } from '@sup/audit';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Provenance } from './types';

/** The control plane's provenance key as `GET /v1/provenance/key` gives it. */
export interface ProvenanceKey {
  keyId?: string;
  key: KeyObject;
}

const PEM = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/;

/**
 * Reads the key from a PEM text or a JSON body holding a PEM (any field) or a JWK (`jwk`), with an
 * optional `keyId`: the simulator does not depend on which of these the control plane chose.
 */
export function parseProvenanceKey(body: unknown): ProvenanceKey {
  if (typeof body === 'string') {
    const pem = PEM.exec(body)?.[0];
    if (pem) return { key: createPublicKey(pem) };
  }
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    const keyId = typeof record.keyId === 'string' ? record.keyId : undefined;
    if (record.jwk && typeof record.jwk === 'object') {
      return { keyId, key: createPublicKey({ key: record.jwk as never, format: 'jwk' }) };
    }
    for (const value of Object.values(record)) {
      const pem = typeof value === 'string' ? PEM.exec(value)?.[0] : undefined;
      if (pem) return { keyId, key: createPublicKey(pem) };
    }
  }
  throw new Error('the provenance key is neither a PEM public key nor a JWK');
}

/**
 * Why a provenance does not vouch for these bytes, or undefined when it does: the signature is
 * the control plane's over the canonical record, and the record names this update and digest.
 */
export function provenanceProblem(
  provenance: Provenance,
  key: ProvenanceKey,
  expected: { updateId: string; sha256: string },
): string | undefined {
  if (key.keyId && provenance.keyId !== key.keyId)
    return `signed with key ${provenance.keyId}, the control plane's is ${key.keyId}`;
  const data = Buffer.from(canonicalJson(provenance.record), 'utf8');
  const signature = Buffer.from(provenance.signature, 'base64');
  if (!verify(null, data, key.key, signature)) return 'provenance signature does not verify';
  if (provenance.record.updateId !== expected.updateId)
    return `provenance is for ${provenance.record.updateId}`;
  if (provenance.record.sha256 !== expected.sha256)
    return `provenance names digest ${provenance.record.sha256}`;
  return undefined;
}

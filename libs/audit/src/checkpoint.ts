import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { AuditCheckpoint } from '@sup/contracts';
import { canonicalJson } from './canonical';
import { sha256Hex, type ChainTail, type RecordContent } from './record';

/** Domain separation: a checkpoint signature can never be mistaken for a signature over anything else. */
const CONTEXT = 'sup-audit-checkpoint-v1\n';

/** The bytes an Ed25519 checkpoint signature covers. */
export function checkpointSignedText(headSeq: number, headHash: string, at: string): string {
  return CONTEXT + canonicalJson({ at, headHash, headSeq });
}

/** SHA-256 of the key's SubjectPublicKeyInfo (DER): names the key without revealing anything. */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(pub.export({ type: 'spki', format: 'der' }));
}

function assertEd25519(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `audit checkpoints are signed with Ed25519, got a ${key.asymmetricKeyType} key`,
    );
  }
}

/** The content of a checkpoint record anchoring `head` (the record just before it). */
export function signCheckpoint(head: ChainTail, at: Date, privateKey: KeyObject): RecordContent {
  assertEd25519(privateKey);
  const atText = at.toISOString();
  const signature = sign(
    null,
    Buffer.from(checkpointSignedText(head.seq, head.hash, atText)),
    privateKey,
  );
  const checkpoint: AuditCheckpoint = {
    headSeq: head.seq,
    headHash: head.hash,
    keyId: keyIdOf(privateKey),
    signature: signature.toString('base64'),
  };
  return { at: atText, kind: 'checkpoint', checkpoint };
}

/** Whether the signature is the key's over this checkpoint's head and time. */
export function checkpointSignatureValid(
  checkpoint: AuditCheckpoint,
  at: string,
  publicKey: KeyObject,
): boolean {
  assertEd25519(publicKey);
  try {
    return verify(
      null,
      Buffer.from(checkpointSignedText(checkpoint.headSeq, checkpoint.headHash, at)),
      publicKey,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

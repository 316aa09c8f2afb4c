import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { keyIdOf } from '@sup/audit';

export interface ProvenanceKey {
  privateKey: KeyObject;
  keyId: string;
  publicKeyPem: string;
}

/**
 * The control plane's provenance signing key. A configured PROVENANCE_KEY_FILE must exist and
 * hold an Ed25519 PKCS#8 key; without one the first start generates it under DATA_DIR (0600,
 * written whole then linked, so a second replica starting at once keeps the first one's key).
 */
export function loadProvenanceKey(source: { file: string; generate: boolean }): ProvenanceKey {
  const { file } = source;
  if (!existsSync(file)) {
    if (!source.generate) throw new Error(`PROVENANCE_KEY_FILE: ${file} does not exist`);
    generateInto(file);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new Error(`provenance key ${file} is not a PEM private key: ${String(error)}`, {
      cause: error,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `provenance key ${file} is ${privateKey.asymmetricKeyType}; it must be Ed25519`,
    );
  }
  const publicKeyPem = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { privateKey, keyId: keyIdOf(privateKey), publicKeyPem };
}

function generateInto(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
}

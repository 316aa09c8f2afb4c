import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { keyIdOf } from '@sup/audit';
import type { Logger } from 'pino';

export interface SigningKey {
  privateKey: KeyObject;
  keyId: string;
  file: string;
}

/** Where the public key of a generated private key is written: beside it. */
export const publicKeyFileFor = (privateKeyFile: string): string =>
  privateKeyFile.replace(/\.pem$/, '') + '.pub.pem';

/**
 * Loads the checkpoint signing key. A configured file must exist and hold an Ed25519 PKCS#8 key;
 * without one, the first start generates a key under DATA_DIR (0600) and its public key beside it
 * (what `npm run audit:verify` needs); a second replica starting at the same moment will
 * keep the key the first one wrote instead of replacing it.
 */
export function loadSigningKey(
  source: { file: string; generate: boolean },
  logger: Pick<Logger, 'info'>,
): SigningKey {
  const { file } = source;
  if (!existsSync(file)) {
    if (!source.generate) {
      throw new Error(`AUDIT_SIGNING_KEY_FILE: ${file} does not exist`);
    }
    generateInto(file, logger);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new Error(`audit signing key ${file} is not a PEM private key: ${String(error)}`, {
      cause: error,
    });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `audit signing key ${file} is ${privateKey.asymmetricKeyType}; checkpoints need Ed25519`,
    );
  }
  return { privateKey, keyId: keyIdOf(privateKey), file };
}

function generateInto(file: string, logger: Pick<Logger, 'info'>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  // Written whole under a temporary name, then linked: the key file appears complete or not at
  // all, and a replica that lost the race keeps the winner's key.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, pem, { mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  } finally {
    unlinkSync(temp);
  }
  const publicFile = publicKeyFileFor(file);
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  logger.info(
    { privateKeyFile: file, publicKeyFile: publicFile },
    'generated the audit checkpoint signing key; verify with `npm run audit:verify -- --public-key <publicKeyFile>`',
  );
}

import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyIdOf } from '@sup/audit';
import { loadSigningKey, publicKeyFileFor } from './signing-key';

const quiet = { info: () => undefined };
const dir = () => mkdtempSync(join(tmpdir(), 'audit-key-'));

describe('loadSigningKey', () => {
  it('generates a private key (0600) and its public key beside it on first start, then reuses it', () => {
    const file = join(dir(), 'audit', 'checkpoint-signing-key.pem');
    const first = loadSigningKey({ file, generate: true }, quiet);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const publicKey = createPublicKey(readFileSync(publicKeyFileFor(file)));
    expect(keyIdOf(publicKey)).toBe(first.keyId);
    const signature = Buffer.from('x');
    expect(verify(null, signature, publicKey, sign(null, signature, first.privateKey))).toBe(true);
    expect(loadSigningKey({ file, generate: true }, quiet).keyId).toBe(first.keyId);
  });

  it('refuses a configured file that is missing, or not an Ed25519 key', () => {
    const d = dir();
    expect(() => loadSigningKey({ file: join(d, 'none.pem'), generate: false }, quiet)).toThrow(
      'does not exist',
    );
    const rsa = join(d, 'rsa.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadSigningKey({ file: rsa, generate: false }, quiet)).toThrow(
      'is rsa; checkpoints need Ed25519',
    );
    const junk = join(d, 'junk.pem');
    writeFileSync(junk, 'not a key');
    expect(() => loadSigningKey({ file: junk, generate: false }, quiet)).toThrow(
      'not a PEM private key',
    );
  });
});

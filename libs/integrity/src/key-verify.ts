import { constants, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import type { SignatureAlgorithm } from './algorithms';
import type { KeyDescription } from './crypto-policy';
import { CmsVerificationError } from './errors';

/**
 * node:crypto verify options for a signature made with `algorithm` by `key`; a scheme the key
 * cannot produce (ECDSA from an RSA key...) is a bad signature, never silently tried otherwise.
 * Shared by CMS signatures and CRL signatures.
 */
export function verifyOptions(
  key: KeyObject,
  description: KeyDescription,
  algorithm: SignatureAlgorithm,
): VerifyKeyObjectInput {
  const mismatch = () =>
    new CmsVerificationError(
      'bad-signature',
      `a ${algorithm.scheme} signature cannot come from the signer's ${description.type} key`,
    );
  switch (algorithm.scheme) {
    case 'ecdsa':
      if (description.type !== 'ec') throw mismatch();
      return { key, dsaEncoding: 'der' };
    case 'rsa-pkcs1-v1_5':
      if (description.type !== 'rsa') throw mismatch();
      return { key, padding: constants.RSA_PKCS1_PADDING };
    case 'rsa-pss':
      if (description.type === 'ec') throw mismatch();
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength };
  }
}

export * from './errors';
export { ContentTooLargeError, type ByteSource, type PumpOptions } from './byte-source';
export * from './sha256-stream';
export type { DigestAlgorithm, SecureDigest, SignatureScheme } from './algorithms';
export { DEFAULT_CRYPTO_POLICY, type CryptoPolicy } from './crypto-policy';
export {
  checkSignerUsage,
  DEFAULT_SIGNER_POLICY,
  LENIENT_SIGNER_POLICY,
  type SignerPolicy,
} from './signer-policy';
export { CrlParseError, parseCrl, type Crl } from './crl';
export {
  NO_REVOCATION,
  type CrlSource,
  type RevocationFailMode,
  type RevocationOptions,
} from './revocation';
export * from './trust-store';
export { OID } from './oids';
export { parseCertificates } from './certificates';
export * from './trust-anchors';
export {
  ChainCache,
  defaultChainCache,
  DEFAULT_CHAIN_CACHE_ENTRIES,
  type ChainCacheOptions,
  type ChainCacheStats,
} from './chain-cache';
export {
  verifyDetachedCms,
  type CmsSigner,
  type CmsVerification,
  type VerifyDetachedCmsInput,
} from './cms-verify';

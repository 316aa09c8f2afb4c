/** The audit log's hash chain and signed checkpoints: building and verifying records. */
export { canonicalJson } from './canonical';
export {
  chainAfter,
  EMPTY_TAIL,
  GENESIS_HASH,
  recordHash,
  sealRecord,
  sha256Hex,
  type ChainTail,
  type RecordContent,
  type UnhashedRecord,
} from './record';
export {
  checkpointSignatureValid,
  checkpointSignedText,
  keyIdOf,
  signCheckpoint,
} from './checkpoint';
export {
  ChainVerifier,
  describeReport,
  verifyChain,
  type ChainEntry,
  type ChainProblem,
  type ChainProblemKind,
  type ChainReport,
  type ChainVerifierOptions,
} from './verify';

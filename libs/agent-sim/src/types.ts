/**
 * The shapes the simulated agents read, as the shared interface of issue 7 defines them. Kept
 * loose on purpose (only the fields an agent uses): the simulator checks what it relies on and
 * ignores the rest, as a real agent of an older build would.
 */

/** One build or security update the assignment says this agent should run. */
export interface AssignedUpdate {
  updateId: string;
  version: string;
  sha256: string;
  size: number;
  /** Security updates name their component; the software target is the agent build. */
  component?: string;
  rolloutId?: string;
}

/** `GET /v1/agents/{agentId}/assignment`. */
export interface Assignment {
  agentId: string;
  /** Base URLs of the relays of the agent's group, already shuffled by the control plane. */
  relays: string[];
  /** The control plane's base URL: the last source to try. */
  fallback: string;
  software?: AssignedUpdate;
  security: (AssignedUpdate & { component: string })[];
}

export interface ProvenanceRecord {
  updateId: string;
  sha256: string;
  signer: { subject: string; sha256Fingerprint: string };
  checks: { name: string; passedAt: string }[];
  issuedAt: string;
}

export interface Provenance {
  record: ProvenanceRecord;
  /** Base64 Ed25519 signature over the canonical JSON of `record`. */
  signature: string;
  keyId: string;
}

/** One catalog entry, from a relay (`artifactUrl`) or the control plane (`artifactPath`). */
export interface CatalogEntry {
  updateId: string;
  kind: string;
  component: string;
  platform?: string;
  version: string;
  sha256: string;
  size: number;
  artifactUrl?: string;
  signatureUrl?: string;
  artifactPath?: string;
  signaturePath?: string;
  required?: boolean;
  provenance?: Provenance;
}

export interface Catalog {
  entries: CatalogEntry[];
}

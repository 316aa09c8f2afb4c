import type { Signer, UpdateDescriptor } from '@sup/contracts';

/** A valid, fixed update descriptor for unit specs (what every update event carries). */
export function sampleDescriptor(overrides: Partial<UpdateDescriptor> = {}): UpdateDescriptor {
  const sha = 'c'.repeat(64);
  return {
    updateId: 'upd_0123456789abcdef01234567',
    kind: 'software',
    component: 'agent',
    platform: 'linux-x86_64',
    version: '20.0.1-12345',
    source: {
      type: 'feed',
      feed: 'acme-active-update',
      sequence: 7,
      url: 'https://feeds.example/acme/',
      syncId: 'sync_0123456789abcdef01234567',
    },
    artifact: { path: 'agent/agent.tar.gz', size: 10, sha256: sha, storeKey: sha },
    signature: {
      path: 'agent/agent.tar.gz.p7s',
      format: 'cms-detached-der',
      storeKey: 'd'.repeat(64),
    },
    ...overrides,
  };
}

/** A valid signer as the signature stage reports it. */
export const SAMPLE_SIGNER: Signer = {
  subject: 'CN=Acme Update Signing',
  issuer: 'CN=Acme Root',
  serialNumber: '01',
  sha256Fingerprint: 'e'.repeat(64),
  notBefore: '2025-01-01T00:00:00Z',
  notAfter: '2027-01-01T00:00:00Z',
};

import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { GroupCatalog, GroupCatalogEntry, UpdateState } from '@sup/contracts';
import { signProvenance, type SignedProvenance, type UpdateView } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';
import type { ProvenanceKey } from './provenance-key';
import { PublishedUpdates, type PublishedUpdate } from './published-updates';
import { RelayDirectory } from './relay-directory';
import { RelaysRepository } from './relays.repository';

export const PROVENANCE_KEY = Symbol('PROVENANCE_KEY');
/** The update views (KV `update_views`), read for the times each check passed. */
export const RELAYS_UPDATE_VIEWS = Symbol('RELAYS_UPDATE_VIEWS');

/** Signed records kept per replica: what they attest never changes once an update is published. */
const PROVENANCE_CACHE = 10_000;

/** The view's history state each check is read from, and its name in the record. */
const CHECKS: [UpdateState, string][] = [
  ['checksum-verified', 'checksum-verified'],
  ['validated', 'signature-validated'],
];

/** A group's catalog: every published, non-withdrawn update with its signed provenance. */
@Injectable()
export class GroupCatalogService {
  private readonly signed = new Map<string, SignedProvenance>();

  constructor(
    private readonly repository: RelaysRepository,
    private readonly published: PublishedUpdates,
    private readonly directory: RelayDirectory,
    @Inject(PROVENANCE_KEY) private readonly key: ProvenanceKey,
    @Inject(RELAYS_UPDATE_VIEWS) private readonly views: VersionedStore<UpdateView>,
  ) {}

  async catalog(group: string): Promise<GroupCatalog> {
    if (!(await this.repository.group(group))) {
      throw new NotFoundException({ message: `no relay group ${group}`, code: 'unknown-group' });
    }
    const [all, required] = await Promise.all([
      this.published.all(),
      this.directory.requiredFor(group),
    ]);
    const requiredIds = new Set(required.map((u) => u.updateId));
    const entries = await Promise.all(
      all.map(async (u): Promise<GroupCatalogEntry> => ({
        updateId: u.updateId,
        kind: u.kind,
        component: u.component,
        ...(u.platform ? { platform: u.platform } : {}),
        version: u.version,
        sha256: u.sha256,
        size: u.size,
        artifactPath: `/v1/updates/${u.updateId}/artifact`,
        signaturePath: `/v1/updates/${u.updateId}/signature`,
        signatureSha256: u.signatureKey,
        required: requiredIds.has(u.updateId),
        provenance: await this.provenance(u),
      })),
    );
    entries.sort((a, b) => (a.updateId < b.updateId ? -1 : 1));
    return { group, entries };
  }

  publicKey(): { keyId: string; algorithm: 'Ed25519'; publicKeyPem: string } {
    return { keyId: this.key.keyId, algorithm: 'Ed25519', publicKeyPem: this.key.publicKeyPem };
  }

  private async provenance(u: PublishedUpdate): Promise<SignedProvenance> {
    const cached = this.signed.get(u.updateId);
    if (cached) return cached;
    const view = (await this.views.get(u.updateId))?.value;
    const checks = CHECKS.flatMap(([state, name]) => {
      const passed = view?.history.find((h) => h.state === state);
      return passed ? [{ name, passedAt: new Date(passed.time).toISOString() }] : [];
    });
    checks.push({ name: 'published', passedAt: u.publishedAt });
    const record = {
      updateId: u.updateId,
      sha256: u.sha256,
      size: u.size,
      signer: u.signer,
      checks,
      issuedAt: new Date().toISOString(),
    };
    const signed = signProvenance(record, this.key.privateKey);
    // A view not written yet leaves out checks: sign again next time rather than keep it short.
    if (checks.length === CHECKS.length + 1) {
      if (this.signed.size >= PROVENANCE_CACHE) this.signed.clear();
      this.signed.set(u.updateId, signed);
    }
    return signed;
  }
}

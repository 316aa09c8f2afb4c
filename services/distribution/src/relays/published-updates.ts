import { Injectable } from '@nestjs/common';
import type { Signer, UpdateDescriptor } from '@sup/contracts';
import type { CatalogEntry } from '../schemas';
import { RelaysRepository } from './relays.repository';

/** A published update as relays, catalogs and the security channel use it. */
export interface PublishedUpdate {
  updateId: string;
  kind: 'software' | 'security';
  component: string;
  platform?: string;
  version: string;
  sha256: string;
  size: number;
  artifactKey: string;
  signatureKey: string;
  signer: Pick<Signer, 'subject' | 'sha256Fingerprint'>;
  publishedAt: string;
}

/**
 * How long one replica reuses its read of the catalog and the withdrawn list: catalogs, the
 * security channel and agents' assignments read them per request. A publication or withdrawal
 * made elsewhere shows within this; one made here is seen at once (invalidate).
 */
const SNAPSHOT_MS = 1_000;

/** The published, non-withdrawn updates; one bounded scan of the catalog per SNAPSHOT_MS. */
@Injectable()
export class PublishedUpdates {
  private cached?: { at: number; value: Promise<PublishedUpdate[]> };

  constructor(private readonly repository: RelaysRepository) {}

  all(): Promise<PublishedUpdate[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > SNAPSHOT_MS) {
      const value = this.load();
      this.cached = { at: now, value };
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  /** One update by `_id`: published (else undefined) and whether it was withdrawn. */
  async get(
    updateId: string,
  ): Promise<{ update: PublishedUpdate; withdrawn: boolean } | undefined> {
    const [entry, withdrawn] = await Promise.all([
      this.repository.published(updateId),
      this.repository.isWithdrawn(updateId),
    ]);
    return entry ? { update: toPublished(entry), withdrawn } : undefined;
  }

  private async load(): Promise<PublishedUpdate[]> {
    const [entries, withdrawn] = await Promise.all([
      this.repository.allPublished(),
      this.repository.withdrawnIds(),
    ]);
    return entries.filter((e) => !withdrawn.has(e._id)).map(toPublished);
  }
}

export function toPublished(entry: CatalogEntry): PublishedUpdate {
  const update = entry.update as unknown as UpdateDescriptor;
  const signer = entry.signer as unknown as Signer;
  return {
    updateId: entry._id,
    kind: entry.kind as PublishedUpdate['kind'],
    component: entry.component,
    ...(entry.platform ? { platform: entry.platform } : {}),
    version: entry.version,
    sha256: update.artifact.sha256,
    size: update.artifact.size,
    artifactKey: update.artifact.storeKey,
    signatureKey: update.signature.storeKey,
    signer: { subject: signer.subject, sha256Fingerprint: signer.sha256Fingerprint },
    publishedAt: new Date(entry.publishedAt).toISOString(),
  };
}

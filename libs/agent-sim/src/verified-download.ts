import { verifyDetachedCms, type TrustAnchors } from '@sup/integrity';
import { HttpClient, resolveUrl } from './http';
import { provenanceProblem, type ProvenanceKey } from './provenance';
import type { AssignedUpdate, Catalog, CatalogEntry } from './types';

/** A place an agent can get bytes from: one of its relays, or the control plane as a fallback. */
export interface Source {
  kind: 'relay' | 'fallback';
  /** The base URL (`http://relay:8090/v1`, or the control plane's `…/v1`). */
  base: string;
  /** Where its catalog is: `/catalog` on a relay, the group's catalog on the control plane. */
  catalogUrl: string;
}

export interface DownloadResult {
  source: Source;
  bytes: number;
  signer: string;
  /** True when the entry carried a provenance and it verified; false when it carried none. */
  provenanceVerified: boolean;
}

export interface SourceFailure {
  source: Source;
  reason: string;
}

/** A CMS signature is a few KiB; anything much larger is not one. */
const MAX_SIGNATURE_BYTES = 1024 * 1024;

export interface DownloaderOptions {
  http: HttpClient;
  trustAnchors: TrustAnchors;
  /** The control plane's key, when it publishes one: entries' provenance is then checked. */
  provenanceKey?: () => Promise<ProvenanceKey | undefined>;
  /** Catalogs by URL, shared by the agents of one round (each agent re-reading is just load). */
  catalogs: Map<string, Promise<Catalog>>;
  /** Whole-transfer bound: a base plus time per MiB, so a 64 MiB file is not cut at 30 s. */
  downloadTimeoutMs?: (size: number) => number;
}

export const defaultDownloadTimeout = (size: number): number =>
  60_000 + Math.ceil(size / (1024 * 1024)) * 2_000;

/**
 * Gets one update like an agent: from each source in order, the catalog entry for the update,
 * then its signature and its bytes; the CMS signature is verified against the agent's own trust
 * anchors while the bytes stream in (never stored), and the digest and size must be the ones the
 * assignment named. A source that lacks the entry, fails or serves anything else is skipped.
 */
export class VerifiedDownloader {
  constructor(private readonly options: DownloaderOptions) {}

  async download(
    item: AssignedUpdate,
    sources: readonly Source[],
    failures: SourceFailure[] = [],
  ): Promise<DownloadResult | undefined> {
    for (const source of sources) {
      try {
        return await this.from(source, item);
      } catch (error) {
        failures.push({ source, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return undefined;
  }

  private catalog(url: string): Promise<Catalog> {
    let pending = this.options.catalogs.get(url);
    if (!pending) {
      pending = this.options.http.json<Catalog>(url);
      // A failed read is not remembered: the next agent tries again.
      pending.catch(() => this.options.catalogs.delete(url));
      this.options.catalogs.set(url, pending);
    }
    return pending;
  }

  private async from(source: Source, item: AssignedUpdate): Promise<DownloadResult> {
    const catalog = await this.catalog(source.catalogUrl);
    const entry = catalog.entries.find((e) => e.updateId === item.updateId);
    if (!entry) throw new Error(`${source.catalogUrl} does not list ${item.updateId}`);
    if (entry.sha256 !== item.sha256 || entry.size !== item.size)
      throw new Error(`${source.catalogUrl} lists other bytes for ${item.updateId}`);
    const provenanceVerified = await this.checkProvenance(entry);
    const artifact = entry.artifactUrl ?? entry.artifactPath;
    const signature = entry.signatureUrl ?? entry.signaturePath;
    if (!artifact || !signature) throw new Error(`entry ${item.updateId} has no download URL`);
    const http = this.options.http;
    const der = await http.bytes(resolveUrl(source.base, signature), MAX_SIGNATURE_BYTES);
    const timeout = (this.options.downloadTimeoutMs ?? defaultDownloadTimeout)(item.size);
    const verified = await verifyDetachedCms({
      signature: der,
      content: () => http.stream(resolveUrl(source.base, artifact), timeout),
      trustAnchors: this.options.trustAnchors,
      maxContentBytes: item.size,
    });
    if (verified.content.sha256 !== item.sha256 || verified.content.size !== item.size)
      throw new Error(
        `${artifact}: got ${verified.content.size} bytes with SHA-256 ${verified.content.sha256}`,
      );
    return { source, bytes: item.size, signer: verified.signer.subject, provenanceVerified };
  }

  private async checkProvenance(entry: CatalogEntry): Promise<boolean> {
    if (!entry.provenance || !this.options.provenanceKey) return false;
    const key = await this.options.provenanceKey();
    if (!key) return false;
    const problem = provenanceProblem(entry.provenance, key, entry);
    if (problem) throw new Error(`${entry.updateId}: ${problem}`);
    return true;
  }
}

import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Actor } from '@sup/contracts';
import type { TrustStore } from '@sup/integrity';
import { AuditTrail, ROOT_LOGGER, SERVICE_CONFIG, TRUST_STORE } from '@sup/service-kit';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { IngestConfig } from '../config';
import { SIGNATURE_MAX_BYTES } from '../entries/entry-importer.service';
import { SignedIndexVerifier } from '../trust/signed-index';
import {
  bundleEntries,
  checkSignatures,
  type BundleEntry,
  type VerifySignature,
} from './bundle-entries';
import { receiveBundle, type IntakeLimits } from './bundle-intake';
import { BundleRecorder, type EntryOutcome } from './bundle-recorder';
import { openBundle } from './bundle-formats';
import type { SourceLimits } from './bundle-source';
import { ImportRefusal } from './import-refusal';
import { UploadGate } from './upload-gate';

/** An upload directory nothing was written to for this long belongs to a dead upload. */
const STALE_UPLOAD_MS = 6 * 3_600_000;

/** The index schema allows 10,000 entries: two files each, plus the index and its signature. */
const MAX_FILES = 2 + 2 * 10_000;

export interface ImportResult {
  /** Same bundle (signed index and the entries it carried), same id. */
  id: string;
  feed: string;
  sequence: number;
  entries: EntryOutcome[];
}

/**
 * A manual import: a bundle of what the vendor signs (index.json, index.json.p7s, and the files
 * it names), verified like a feed sync, recorded like feed entries. Every refusal happens before
 * anything is recorded or stored, and the upload's temp directory is always removed.
 */
@Injectable()
export class ManualImportService implements OnApplicationBootstrap {
  private readonly gate: UploadGate;
  private readonly intakeLimits: IntakeLimits;
  private readonly sourceLimits: SourceLimits;

  constructor(
    @Inject(SERVICE_CONFIG) config: IngestConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly verifier: SignedIndexVerifier,
    private readonly recorder: BundleRecorder,
    @Inject(TRUST_STORE) private readonly trust: TrustStore,
    @Inject(AuditTrail) private readonly audit: AuditTrail,
  ) {
    const { importLimits: l, uploadDir } = config;
    this.gate = new UploadGate({ uploadDir, ...l });
    this.intakeLimits = {
      maxFileBytes: l.maxFileBytes,
      maxBundleBytes: l.maxBundleBytes,
      indexMaxBytes: config.indexMaxBytes,
      indexSignatureMaxBytes: config.indexSignatureMaxBytes,
      signatureMaxBytes: SIGNATURE_MAX_BYTES,
    };
    this.sourceLimits = { maxBundleBytes: l.maxBundleBytes, maxFiles: MAX_FILES };
  }

  /** Uploads cut short by a crash (of this or another replica) left their temp files behind. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const removed = await this.gate.sweepStale(STALE_UPLOAD_MS);
      if (removed.length > 0) this.logger.info({ removed }, 'stale upload directories removed');
    } catch (err) {
      this.logger.warn({ err }, 'could not sweep stale upload directories');
    }
  }

  async importBundle(req: IncomingMessage, actor: Actor): Promise<ImportResult> {
    // One audit record per upload, accepted or refused: each request is an action of its own.
    const audit = { id: `manual-import-${randomUUID()}`, action: 'manual-import', actor };
    let result: ImportResult;
    try {
      result = await this.receive(req, actor);
    } catch (error) {
      if (!(error instanceof ImportRefusal)) throw error;
      const reason = `${error.code}: ${error.message}`;
      this.logger.warn(
        { actor, code: error.code, status: error.getStatus() },
        `manual import refused: ${error.message}`,
      );
      // Nothing changed, so the client still learns why even if the audit log cannot be reached.
      await this.audit
        .record([
          { ...audit, target: 'POST /v1/imports', outcome: 'refused', reason: clip(reason) },
        ])
        .catch((err: unknown) =>
          this.logger.error({ err, actor, reason }, 'refused import not audited'),
        );
      throw error;
    }
    const { id, feed, sequence, entries } = result;
    this.logger.info({ importId: id, actor, feed, sequence, entries }, 'manual import accepted');
    const done = entries.map((e) => `${e.updateId} ${e.created ? 'imported' : 'recorded before'}`);
    await this.audit.record([
      {
        ...audit,
        target: id,
        outcome: 'accepted',
        reason: clip(`feed ${feed} sequence ${sequence}: ${done.join(', ')}`),
      },
    ]);
    return result;
  }

  private async receive(req: IncomingMessage, actor: Actor): Promise<ImportResult> {
    const slot = await this.gate.enter(declaredLength(req));
    try {
      const bundle = await receiveBundle(openBundle(req, slot.tempDir, this.sourceLimits), {
        tempDir: slot.tempDir,
        limits: this.intakeLimits,
        verifyIndex: (files) => this.verifier.verify(files),
      });
      const entries = bundleEntries(bundle);
      await checkSignatures(entries, this.verifySignature);
      // Only a bundle that passed every check moves its feed's accepted sequence forward.
      await this.verifier.accept(bundle.verified);
      const { index, digest } = bundle.verified;
      const importId = importIdOf(digest, entries);
      const outcomes = await this.recorder.record(entries, {
        type: 'manual',
        importId,
        importedBy: actor,
      });
      return { id: importId, feed: index.feed, sequence: index.sequence, entries: outcomes };
    } finally {
      await slot.leave();
    }
  }

  /** Same trust, signer policy and revocation as feed syncs and the signature stage. */
  private readonly verifySignature: VerifySignature = (signature, content) =>
    this.trust.verify({ signature, content });
}

/** Audit reasons are bounded by the contract. */
const clip = (text: string): string => (text.length > 2_000 ? `${text.slice(0, 1_999)}…` : text);

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  const length = header === undefined ? NaN : Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

/** Deterministic, so importing the same bundle again answers with the same id. */
function importIdOf(indexDigest: string, entries: BundleEntry[]): string {
  const hash = createHash('sha256').update(indexDigest);
  for (const id of entries.map((e) => e.id).sort()) hash.update(`\n${id}`);
  return `imp_${hash.digest('hex').slice(0, 24)}`;
}

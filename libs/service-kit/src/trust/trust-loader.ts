import {
  parseCrl,
  TrustStore,
  type CrlSource,
  type TrustMaterial,
  type TrustSnapshot,
} from '@sup/integrity';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import {
  crlPath,
  isCrlUrl,
  readAnchors,
  readIntermediates,
  type TrustSettings,
} from '../trust-config';
import { fetchCrlBytes } from './crl-fetch';
import { watchFiles } from './watch-files';

/** A source without a usable CRL is retried this often at most, whatever CRL_REFRESH_MS says. */
const RETRY_UNAVAILABLE_MS = 30_000;
const DEFAULT_DEBOUNCE_MS = 250;

/** `https://user:secret@host/x` → `https://***@host/x`: locations end up in logs and verdicts. */
export const redactLocation = (location: string): string =>
  location.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');

export interface TrustLoaderOptions {
  debounceMs?: number;
  /** Default true: reload on SIGHUP. */
  hangup?: boolean;
  /** Called after every change of the store (tests wait on it instead of on time). */
  onChange?: (snapshot: TrustSnapshot) => void;
}

/**
 * Keeps a TrustStore current: re-reads the anchor, intermediate and CRL files when they change
 * (directory watch, debounced) or on SIGHUP, and refreshes every CRL (files and URLs) every
 * CRL_REFRESH_MS. Whatever cannot be read or parsed keeps the previous good value and is logged
 * as an error; a CRL older than the copy in use is refused too (no rollback). Reloads run one
 * after another in this process; each replica keeps its own copy, nothing is shared.
 */
export class TrustLoader {
  readonly store: TrustStore;
  private sources: CrlSource[];
  private queue: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private unwatch?: () => void;
  private stopped = false;
  private readonly onHangup = () => void this.reload('SIGHUP', true);

  constructor(
    private readonly settings: TrustSettings,
    private readonly logger: Logger,
    private readonly options: TrustLoaderOptions = {},
  ) {
    this.sources = settings.initial.crls.map((s) => ({
      ...s,
      location: redactLocation(s.location),
    }));
    this.store = new TrustStore(
      { ...settings.initial, crls: this.sources },
      settings.policy,
      undefined,
      // Every caller's acceptance without a revocation check is logged, index signatures too.
      (warnings, result) =>
        logger.warn(
          { warnings, signer: result.signer.subject, content: result.content.sha256 },
          'signature accepted without a revocation check (CRL_FAIL_MODE=open)',
        ),
    );
  }

  /** Fetches the CRL URLs once (so nothing is verified before they had a chance), then watches. */
  async start(): Promise<void> {
    if (this.settings.crlLocations.some(isCrlUrl)) await this.reload('start', true);
    const files = [
      this.settings.anchorsPath,
      ...(this.settings.intermediatesPath ? [this.settings.intermediatesPath] : []),
      ...this.settings.crlLocations.filter((l) => !isCrlUrl(l)).map(crlPath),
    ];
    this.unwatch = watchFiles(
      files,
      this.options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      () => void this.reload('file changed', false),
      (err, dir) =>
        this.logger.error({ err, dir }, 'cannot watch trust files; SIGHUP reloads them'),
    );
    if (this.options.hangup ?? true) process.on('SIGHUP', this.onHangup);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unwatch?.();
    process.off('SIGHUP', this.onHangup);
  }

  /** Re-reads the files (and fetches the URLs when `urls`); resolves when the new set is in place. */
  reload(reason: string, urls: boolean): Promise<void> {
    const run = this.queue.then(() => this.reloadNow(reason, urls));
    this.queue = run.catch((err: unknown) => this.logger.error({ err }, 'trust reload failed'));
    return this.queue;
  }

  private schedule(): void {
    if (this.stopped) return;
    const unavailable = this.sources.some((s) => !s.crl || s.error);
    const delay = unavailable
      ? Math.min(this.settings.crlRefreshMs, RETRY_UNAVAILABLE_MS)
      : this.settings.crlRefreshMs;
    this.timer = setTimeout(() => {
      void this.reload('scheduled refresh', true).then(() => this.schedule());
    }, delay);
    this.timer.unref();
  }

  private async reloadNow(reason: string, urls: boolean): Promise<void> {
    const current = this.store.current;
    const changes: { -readonly [K in keyof TrustMaterial]?: TrustMaterial[K] } = {};
    const anchors = this.readOr('TRUST_ANCHORS', () => readAnchors(this.settings.anchorsPath));
    if (
      anchors &&
      !sameDers(
        anchors.certificates.map((c) => c.raw),
        current.anchors.certificates.map((c) => c.raw),
      )
    ) {
      changes.anchors = anchors;
    }
    const intermediates = this.readOr('TRUST_INTERMEDIATES', () =>
      readIntermediates(this.settings.intermediatesPath),
    );
    if (intermediates && !sameDers(intermediates, current.intermediates)) {
      changes.intermediates = intermediates;
    }
    const sources = await Promise.all(
      this.settings.crlLocations.map((location, i) =>
        isCrlUrl(location) && !urls
          ? Promise.resolve(this.sources[i])
          : this.refreshCrl(location, this.sources[i]),
      ),
    );
    if (sources.some((s, i) => s !== this.sources[i])) {
      this.sources = sources;
      changes.crls = sources;
    }
    if (Object.keys(changes).length === 0) return;
    const snapshot = this.store.update(changes);
    this.logChange(reason, snapshot, Object.keys(changes));
    this.options.onChange?.(snapshot);
  }

  private readOr<T>(variable: string, read: () => T): T | undefined {
    try {
      return read();
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message, variable },
        `${variable} cannot be used; keeping the previous set`,
      );
      return undefined;
    }
  }

  private async refreshCrl(location: string, previous: CrlSource): Promise<CrlSource> {
    try {
      const bytes = isCrlUrl(location)
        ? await fetchCrlBytes(location, {
            timeoutMs: this.settings.crlFetchTimeoutMs,
            maxBytes: this.settings.crlMaxBytes,
          })
        : await readFile(crlPath(location));
      const crl = parseCrl(bytes, previous.location);
      if (previous.crl?.fingerprint === crl.fingerprint && !previous.error) return previous;
      if (previous.crl && crl.thisUpdate < previous.crl.thisUpdate) {
        throw new Error(
          `is older (thisUpdate ${crl.thisUpdate.toISOString()}) than the copy in use (${previous.crl.thisUpdate.toISOString()})`,
        );
      }
      return { location: previous.location, crl };
    } catch (err) {
      const error = (err as Error).message;
      if (error !== previous.error) {
        this.logger.error(
          { crl: previous.location, err: error, lastGood: previous.crl?.thisUpdate.toISOString() },
          previous.crl
            ? 'CRL refresh failed; keeping the last good copy'
            : 'CRL unavailable; revocation status unknown for its issuer',
        );
      }
      if (error === previous.error) return previous;
      return { location: previous.location, ...(previous.crl ? { crl: previous.crl } : {}), error };
    }
  }

  private logChange(reason: string, snapshot: TrustSnapshot, changed: string[]): void {
    this.logger.info(
      {
        reason,
        changed,
        version: snapshot.version,
        anchors: snapshot.anchors.certificates.map((c) => c.subject.split('\n').join(', ')),
        intermediates: snapshot.intermediates.length,
        crls: snapshot.crls.map(({ location, crl, error }) => ({
          location,
          ...(crl
            ? {
                issuer: crl.issuer,
                thisUpdate: crl.thisUpdate.toISOString(),
                nextUpdate: crl.nextUpdate?.toISOString(),
                revoked: crl.revoked.size,
              }
            : {}),
          ...(error ? { error } : {}),
        })),
      },
      'trust reloaded',
    );
  }
}

const sameDers = (a: readonly Buffer[], b: readonly Buffer[]): boolean =>
  a.length === b.length && a.every((der, i) => der.equals(b[i]));

import {
  buildFeed,
  createTestPki,
  eventually,
  freePort,
  Pipeline,
  SIGNER_EXTENSION_VARIANTS,
  type BuiltFeed,
  type FeedUpdateSpec,
  type TestPki,
  type TestSigner,
} from '@sup/testing';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { allowFeeds, allUpdates, find, settled, syncAndWait } from './helpers';

/**
 * The strict signer policy and revocation with real processes: entries signed by a leaf without
 * EKU, with only anyExtendedKeyUsage, by a revoked signer (CRL file); a CRL URL that cannot be
 * fetched (fail-closed: the index itself is refused, nothing published); and a vendor root
 * rotation (two roots in one bundle, then the old one removed) without restarting anything.
 */
jest.setTimeout(300_000);

const security = (component: string, version: string): FeedUpdateSpec => ({
  kind: 'security',
  component,
  version,
});

describe('signer policy, revocation and trust reloads end to end', () => {
  let root: string;
  let vendor: TestPki;
  let rotated: TestPki;
  let pipeline: Pipeline;
  let anchorsPath: string;
  let crlPort: number;
  let crlServer: Server | undefined;
  let noEku: TestSigner;
  let anyEku: TestSigner;
  let revoked: TestSigner;

  /** Builds a feed, then re-signs chosen artifacts with other signers (the index names no signer). */
  async function feed(
    name: string,
    pki: TestPki,
    sequence: number,
    updates: [FeedUpdateSpec, (TestSigner | TestPki)?][],
  ): Promise<BuiltFeed> {
    const dir = join(root, 'feeds', `${name}-${sequence}`);
    const built = await buildFeed(dir, pki, {
      feed: name,
      sequence,
      updates: updates.map(([u]) => u),
    });
    for (const [i, [, by]] of updates.entries()) {
      if (!by) continue;
      const path = join(dir, (built.index.updates[i].artifact as { path: string }).path);
      const signer = 'signers' in by ? by.signers.rsa : by;
      const signing = 'signers' in by ? by : pki;
      await signing.sign(path, signer, { out: `${path}.p7s` });
    }
    return built;
  }

  /** Both verifying services logged a trust reload (after `since`) whose line holds `what`. */
  async function reloaded(what: string, since: Map<string, number>): Promise<void> {
    for (const service of ['ingest', 'signature-validator'] as const) {
      await eventually(async () => {
        const log = (await readFile(pipeline.logFile(service), 'utf8')).slice(since.get(service));
        return log.split('\n').some((l) => l.includes('"trust reloaded"') && l.includes(what))
          ? true
          : undefined;
      }, `${service} to reload its ${what}`);
    }
  }

  const logSizes = async () =>
    new Map(
      await Promise.all(
        (['ingest', 'signature-validator'] as const).map(
          async (s) => [s, (await readFile(pipeline.logFile(s), 'utf8')).length] as const,
        ),
      ),
    );

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sup-signer-policy-'));
    [vendor, rotated] = await Promise.all([
      createTestPki(join(root, 'vendor')),
      createTestPki(join(root, 'rotated')),
    ]);
    [noEku, anyEku, revoked] = await Promise.all([
      vendor.issueSigner('Signer without EKU', { extensions: SIGNER_EXTENSION_VARIANTS.noEku }),
      vendor.issueSigner('Signer with anyEKU', { extensions: SIGNER_EXTENSION_VARIANTS.anyEku }),
      vendor.issueSigner('Revoked signer'),
    ]);
    await mkdir(join(root, 'trust'));
    anchorsPath = join(root, 'trust', 'anchors.pem');
    // Key rotation starts with both roots in one bundle.
    await writeFile(
      anchorsPath,
      Buffer.concat([await readFile(vendor.rootPem), await readFile(rotated.rootPem)]),
    );
    const crlFile = join(root, 'trust', 'intermediate.crl');
    await vendor.makeCrl('intermediate', { revoked: [revoked.certPem], out: crlFile });
    // Nothing listens here yet: the CRL URL cannot be fetched when the services start.
    crlPort = await freePort();
    pipeline = await Pipeline.start({
      trustAnchors: anchorsPath,
      env: {
        ...allowFeeds(pathToFileURL(join(root, 'feeds')).href + '/'),
        TRUST_CRLS: `${crlFile},http://127.0.0.1:${crlPort}/root.crl`,
        CRL_REFRESH_MS: '2000',
        CRL_FETCH_TIMEOUT_MS: '2000',
      },
    });
  });

  afterAll(async () => {
    crlServer?.close();
    await pipeline?.stop();
  });

  it('fail-closed: with a CRL URL that cannot be fetched even the index is refused, nothing published', async () => {
    const built = await feed('acme', vendor, 1, [[security('firewall-rules', '26-100')]]);
    const sync = await syncAndWait(pipeline, built.url);
    expect(sync.state).toBe('refused');
    expect(sync.reason).toContain('revocation-unavailable');
    expect(await allUpdates(pipeline)).toEqual([]);
  });

  it('once the CRLs load: wrong-usage leaves and a revoked signer are rejected with their codes', async () => {
    const before = await logSizes();
    const rootCrl = await vendor.makeCrl('root');
    crlServer = createServer((_req, res) => res.writeHead(200).end(rootCrl));
    await new Promise<void>((resolve) => crlServer?.listen(crlPort, '127.0.0.1', resolve));
    await reloaded('root.crl","issuer"', before);

    const built = await feed('acme', vendor, 2, [
      [security('firewall-rules', '26-101')],
      [security('firewall-rules', '26-102'), noEku],
      [security('firewall-rules', '26-103'), anyEku],
      [security('firewall-rules', '26-104'), revoked],
    ]);
    const sync = await syncAndWait(pipeline, built.url);
    expect(sync.state).toBe('completed');
    const items = await settled(pipeline, 4);
    expect(find(items, 'firewall-rules', '26-101').state).toBe('published');
    const rejection = (version: string) => find(items, 'firewall-rules', version).rejection;
    expect(rejection('26-102')).toMatchObject({
      stage: 'signature',
      code: 'certificate-wrong-usage',
    });
    expect(rejection('26-102')?.reason).toContain('no extendedKeyUsage');
    expect(rejection('26-103')).toMatchObject({
      stage: 'signature',
      code: 'certificate-wrong-usage',
    });
    expect(rejection('26-103')?.reason).toContain('anyExtendedKeyUsage is not enough');
    expect(rejection('26-104')).toMatchObject({ stage: 'signature', code: 'certificate-revoked' });
  });

  it('rotates the vendor root without a restart: both roots, then only the new one', async () => {
    const pids = [...pipeline.processes.values()].map((p) => p.child.pid);
    const next = await feed('acme-next', rotated, 1, [
      [security('log-inspection-rules', '26-200')],
    ]);
    expect((await syncAndWait(pipeline, next.url)).state).toBe('completed');

    const before = await logSizes();
    // As a deployment replaces a file: write it beside, rename it over the old one.
    await writeFile(`${anchorsPath}.new`, await readFile(rotated.rootPem));
    await rename(`${anchorsPath}.new`, anchorsPath);
    await reloaded('"changed":["anchors"]', before);

    const old = await feed('acme', vendor, 3, [[security('firewall-rules', '26-105')]]);
    const refused = await syncAndWait(pipeline, old.url);
    expect(refused.state).toBe('refused');
    expect(refused.reason).toContain('untrusted-chain');

    const mixed = await feed('acme-next', rotated, 2, [
      [security('log-inspection-rules', '26-201')],
      [security('log-inspection-rules', '26-202'), vendor],
    ]);
    expect((await syncAndWait(pipeline, mixed.url)).state).toBe('completed');
    const items = await settled(pipeline, 7);
    expect(find(items, 'log-inspection-rules', '26-200').state).toBe('published');
    expect(find(items, 'log-inspection-rules', '26-201').state).toBe('published');
    expect(find(items, 'log-inspection-rules', '26-202').rejection).toMatchObject({
      stage: 'signature',
      code: 'untrusted-chain',
    });
    expect(items.some((u) => u.version === '26-105')).toBe(false);
    // Same processes throughout: nothing was restarted.
    expect([...pipeline.processes.values()].map((p) => p.child.pid)).toEqual(pids);
  });
});

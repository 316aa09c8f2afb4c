import { OID, type TrustSnapshot } from '@sup/integrity';
import { createTestPki, type TestPki, type TestSigner } from '@sup/testing';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pino from 'pino';
import { z } from 'zod';
import { loadTrustConfig, TrustEnvShape } from '../trust-config';
import { redactLocation, TrustLoader } from './trust-loader';

jest.setTimeout(90_000);

let dir: string;
let oldPki: TestPki;
let newPki: TestPki;
const content = Buffer.from('signed bytes');
const signatures = new Map<TestSigner, Buffer>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sup-trust-loader-'));
  [oldPki, newPki] = await Promise.all([
    createTestPki(join(dir, 'old')),
    createTestPki(join(dir, 'new')),
  ]);
  for (const pki of [oldPki, newPki]) {
    signatures.set(pki.signers.rsa, await pki.signBuffer(content, pki.signers.rsa));
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = (vars: Record<string, string>) => z.object(TrustEnvShape).parse(vars);

/** A logger whose JSON lines land in `lines`. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

let loaders: TrustLoader[] = [];
afterEach(() => {
  for (const loader of loaders) loader.stop();
  loaders = [];
});

/** A started loader and a way to wait for its next change (no timers: the change is the signal). */
async function startLoader(vars: Record<string, string>, hangup = false) {
  const { logger, lines } = capture();
  let notify: ((s: TrustSnapshot) => void) | undefined;
  const loader = new TrustLoader(loadTrustConfig(env(vars)).trust, logger, {
    debounceMs: 50,
    hangup,
    onChange: (snapshot) => notify?.(snapshot),
  });
  loaders.push(loader);
  await loader.start();
  const nextChange = () => new Promise<TrustSnapshot>((resolve) => (notify = resolve));
  return { loader, lines, nextChange };
}

const verdict = (loader: TrustLoader, signer: TestSigner): Promise<string> =>
  loader.store
    .verify({ signature: signatures.get(signer)!, content: () => Readable.from([content]) })
    .then(
      () => 'valid',
      (e: Error & { code?: string }) => e.code ?? e.message,
    );

/** Replaces a file the way deployments do: write a temporary file, rename it over the old one. */
async function replaceAtomically(path: string, bytes: Buffer | string): Promise<void> {
  await writeFile(`${path}.tmp`, bytes);
  await rename(`${path}.tmp`, path);
}

async function serve(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/ca.crl`, server };
}

describe('loadTrustConfig', () => {
  it('is strict by default and fail-closed', () => {
    const { trust } = loadTrustConfig(env({ TRUST_ANCHORS: oldPki.trustAnchorsPem }));
    expect(trust.policy.signer).toEqual({
      requiredExtendedKeyUsages: [OID.codeSigning],
      requireDigitalSignature: true,
    });
    expect(trust.policy.revocationFailMode).toBe('closed');
    expect(trust.crlLocations).toEqual([]);
  });

  it('relaxes the signer policy only when told to', () => {
    const { trust } = loadTrustConfig(
      env({
        TRUST_ANCHORS: oldPki.trustAnchorsPem,
        SIGNER_REQUIRED_EKU: 'none',
        SIGNER_REQUIRE_DIGITAL_SIGNATURE: 'false',
        CRL_FAIL_MODE: 'open',
      }),
    );
    expect(trust.policy.signer).toEqual({
      requiredExtendedKeyUsages: [],
      requireDigitalSignature: false,
    });
    expect(trust.policy.revocationFailMode).toBe('open');
    const named = loadTrustConfig(
      env({ TRUST_ANCHORS: oldPki.trustAnchorsPem, SIGNER_REQUIRED_EKU: 'codeSigning,1.2.3.4' }),
    );
    expect(named.trust.policy.signer.requiredExtendedKeyUsages).toEqual([
      OID.codeSigning,
      '1.2.3.4',
    ]);
  });

  it('refuses bad values and unreadable CRL files, naming the variable', async () => {
    expect(() => env({ TRUST_ANCHORS: 'x', SIGNER_REQUIRED_EKU: 'codesigning' })).toThrow(
      /comma-separated OIDs/,
    );
    expect(() => env({ TRUST_ANCHORS: 'x', CRL_FAIL_MODE: 'maybe' })).toThrow();
    for (const TRUST_CRLS of ['ftp://crl.example/ca.crl', 'ldap://dir/ca.crl', 'a.crl,,']) {
      expect(() => env({ TRUST_ANCHORS: 'x', TRUST_CRLS })).toThrow(/CRL file paths or http/);
    }
    expect(
      env({ TRUST_ANCHORS: 'x', TRUST_CRLS: '/etc/a.crl,https://c.example/b.crl' }),
    ).toBeDefined();
    const junk = join(dir, 'junk.crl');
    await writeFile(junk, 'not a crl');
    for (const TRUST_CRLS of [junk, join(dir, 'missing.crl')]) {
      expect(() =>
        loadTrustConfig(env({ TRUST_ANCHORS: oldPki.trustAnchorsPem, TRUST_CRLS })),
      ).toThrow(/^TRUST_CRLS: /);
    }
  });
});

describe('TrustLoader: anchors', () => {
  it('trusts several roots at once and drops one without a restart (key rotation)', async () => {
    const anchorsPath = join(dir, 'rotation', 'anchors.pem');
    await mkdir(join(dir, 'rotation'));
    const both = Buffer.concat([readFileSync(oldPki.rootPem), readFileSync(newPki.rootPem)]);
    await writeFile(anchorsPath, both);
    const { loader, lines, nextChange } = await startLoader({ TRUST_ANCHORS: anchorsPath });
    expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');
    expect(await verdict(loader, newPki.signers.rsa)).toBe('valid');

    const changed = nextChange();
    await replaceAtomically(anchorsPath, await readFile(newPki.rootPem));
    expect((await changed).anchors.certificates).toHaveLength(1);
    expect(await verdict(loader, oldPki.signers.rsa)).toBe('untrusted-chain');
    expect(await verdict(loader, newPki.signers.rsa)).toBe('valid');
    expect(lines.find((l) => l.msg === 'trust reloaded')).toMatchObject({
      changed: ['anchors'],
      reason: 'file changed',
    });
  });

  it('keeps the previous anchors when the new file is bad, and logs why', async () => {
    const anchorsPath = join(dir, 'bad-anchors.pem');
    await writeFile(anchorsPath, await readFile(oldPki.rootPem));
    const { loader, lines } = await startLoader({ TRUST_ANCHORS: anchorsPath });
    const before = loader.store.current;
    for (const bad of [
      '',
      'not a certificate',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    ]) {
      await writeFile(anchorsPath, bad);
      await loader.reload('test', false);
      expect(loader.store.current).toBe(before);
      expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');
    }
    await rm(anchorsPath);
    await loader.reload('test', false);
    expect(loader.store.current).toBe(before);
    const errors = lines.filter((l) => l.variable === 'TRUST_ANCHORS');
    expect(errors).toHaveLength(4);
    expect(errors.every((l) => l.level === 50)).toBe(true);
  });
});

describe('TrustLoader: CRLs', () => {
  it('refreshes a CRL file on change: a signer revoked later is refused without a restart', async () => {
    const crlPath = join(dir, 'intermediate.crl');
    await oldPki.makeCrl('intermediate', { out: crlPath });
    const { loader, nextChange } = await startLoader({
      TRUST_ANCHORS: oldPki.trustAnchorsPem,
      TRUST_CRLS: crlPath,
    });
    expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');
    const changed = nextChange();
    await replaceAtomically(
      crlPath,
      await oldPki.makeCrl('intermediate', { revoked: [oldPki.signers.rsa.certPem] }),
    );
    expect((await changed).crls[0].crl?.revoked.size).toBe(1);
    expect(await verdict(loader, oldPki.signers.rsa)).toBe('certificate-revoked');
  });

  it('fetches CRL URLs, keeps the last good copy when a refresh fails, and reloads on SIGHUP', async () => {
    let answer: { status: number; body: Buffer } = { status: 404, body: Buffer.from('no') };
    const { url, server } = await serve((_req, res) => {
      res.writeHead(answer.status).end(answer.body);
    });
    try {
      const { loader, nextChange } = await startLoader(
        { TRUST_ANCHORS: oldPki.trustAnchorsPem, TRUST_CRLS: url },
        true,
      );
      expect(loader.store.current.crls[0]).toMatchObject({ location: url, error: 'HTTP 404' });
      expect(await verdict(loader, oldPki.signers.rsa)).toBe('revocation-unavailable');

      answer = { status: 200, body: await oldPki.makeCrl('intermediate') };
      let changed = nextChange();
      process.emit('SIGHUP', 'SIGHUP');
      await changed;
      expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');

      answer = { status: 500, body: Buffer.from('down') };
      changed = nextChange();
      process.emit('SIGHUP', 'SIGHUP');
      const failed = await changed;
      expect(failed.crls[0]).toMatchObject({ error: 'HTTP 500', crl: expect.anything() });
      expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');

      // An older CRL than the one in use would un-revoke certificates: refused.
      answer = {
        status: 200,
        body: await oldPki.makeCrl('intermediate', {
          thisUpdate: new Date(Date.now() - 86_400_000),
        }),
      };
      await loader.reload('test', true);
      expect(loader.store.current.crls[0].error).toMatch(/is older/);
    } finally {
      server.close();
    }
  });

  it('refuses oversized answers, redirects and slow servers', async () => {
    const big = Buffer.alloc(4096, 1);
    const { url, server } = await serve((req, res) => {
      if (req.url === '/big') res.writeHead(200).end(big);
      else if (req.url === '/redirect') res.writeHead(302, { location: '/big' }).end();
      else res.writeHead(200); // never ends
    });
    const base = url.replace('/ca.crl', '');
    try {
      const { loader } = await startLoader({
        TRUST_ANCHORS: oldPki.trustAnchorsPem,
        TRUST_CRLS: `${base}/big,${base}/redirect,${base}/slow`,
        CRL_MAX_BYTES: '1024',
        CRL_FETCH_TIMEOUT_MS: '300',
      });
      const errors = loader.store.current.crls.map((s) => s.error);
      expect(errors[0]).toMatch(/CRL_MAX_BYTES/);
      expect(errors[1]).toMatch(/cannot fetch/);
      expect(errors[2]).toMatch(/CRL_FETCH_TIMEOUT_MS/);
      expect(loader.store.current.crls.every((s) => s.crl === undefined)).toBe(true);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('fail-open: accepts without a usable CRL and logs a warning for every such acceptance', async () => {
    const stale = join(dir, 'stale.crl');
    await oldPki.makeCrl('intermediate', {
      thisUpdate: new Date(Date.now() - 2 * 86_400_000),
      nextUpdate: new Date(Date.now() - 86_400_000),
      out: stale,
    });
    const { loader, lines } = await startLoader({
      TRUST_ANCHORS: oldPki.trustAnchorsPem,
      TRUST_CRLS: stale,
      CRL_FAIL_MODE: 'open',
    });
    expect(await verdict(loader, oldPki.signers.rsa)).toBe('valid');
    const warning = lines.find((l) => l.level === 40);
    expect(warning).toMatchObject({
      msg: 'signature accepted without a revocation check (CRL_FAIL_MODE=open)',
      signer: oldPki.signers.rsa.subject,
    });
    expect(String(warning?.warnings)).toContain('is stale');
  });

  it('redacts credentials in CRL locations', () => {
    expect(redactLocation('https://user:secret@crl.example/ca.crl')).toBe(
      'https://***@crl.example/ca.crl',
    );
    expect(redactLocation('/etc/pki/ca.crl')).toBe('/etc/pki/ca.crl');
  });
});

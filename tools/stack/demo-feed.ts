import { buildFeed, createTestPki } from '@sup/testing';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The demo vendor's own directory (its CA and signer private keys): beside DATA_DIR, never in it,
 * because every service reads DATA_DIR. `DEMO_VENDOR_DIR` moves it.
 */
export const demoVendorDir = (dataDir: string, env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.DEMO_VENDOR_DIR || join(dirname(resolve(dataDir)), '.demo-vendor'));

/** Only this OS user may read the vendor's keys: directories 0700, files 0600. */
function lockDown(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) lockDown(path);
    else chmodSync(path, 0o600);
  }
}

/**
 * A demo vendor (its own CA) and a signed feed, made on first run so the pipeline has something
 * to do at once. One update is forged (signed by a CA nobody trusts) and one is corrupted, to show
 * rejection. Rebuilt with a higher sequence once the index expires. The services get the feed and
 * the trust anchors under `DATA_DIR/demo`; the vendor's keys stay in `vendorDir`.
 */
export async function ensureDemoFeed(
  dataDir: string,
  vendorDir: string = demoVendorDir(dataDir),
): Promise<{ feedUrl: string; trustAnchors: string }> {
  // What the services read: the signed feed and the public trust anchors.
  const root = join(dataDir, 'demo');
  const feedDir = join(root, 'feed');
  const indexPath = join(feedDir, 'index.json');
  const trustAnchors = join(root, 'trust-anchors.pem');
  // A version before this one kept the vendor's keys here: they go, and a new vendor signs.
  const legacyPki = join(root, 'pki');
  const hadLegacyPki = existsSync(legacyPki);
  if (hadLegacyPki) rmSync(legacyPki, { recursive: true, force: true });
  const current = existsSync(indexPath)
    ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { sequence: number; expiresAt: string })
    : undefined;
  if (
    current &&
    !hadLegacyPki &&
    Date.parse(current.expiresAt) > Date.now() + 86_400_000 &&
    existsSync(trustAnchors)
  ) {
    return { feedUrl: pathToFileURL(feedDir).href + '/', trustAnchors };
  }
  mkdirSync(vendorDir, { recursive: true, mode: 0o700 });
  const pkiDir = join(vendorDir, 'pki');
  const pki = await createTestPki(pkiDir);
  lockDown(vendorDir);
  const linux = { kind: 'software', platform: 'linux-x86_64' };
  await buildFeed(feedDir, pki, {
    feed: 'demo-vendor',
    sequence: (current?.sequence ?? 0) + 1,
    updates: [
      { ...linux, component: 'relay', version: '20.0.1-12345', content: 512 * 1024 },
      { ...linux, component: 'agent', version: '20.0.1-12345', content: 512 * 1024 },
      {
        kind: 'software',
        component: 'agent',
        platform: 'windows-x86_64',
        version: '20.0.1.12345',
        signer: 'ecdsa',
      },
      {
        kind: 'security',
        component: 'anti-malware-pattern',
        version: '19.231.00',
        content: 256 * 1024,
      },
      { kind: 'security', component: 'firewall-rules', version: '26-058' },
      {
        kind: 'security',
        component: 'intrusion-prevention-rules',
        version: '26-058',
        signer: 'pss',
        signOptions: { pss: true },
      },
      {
        kind: 'security',
        component: 'integrity-monitoring-rules',
        version: '26-058',
        tamper: 'corrupt',
      },
      { kind: 'security', component: 'log-inspection-rules', version: '26-058', tamper: 'forged' },
    ],
  });
  mkdirSync(root, { recursive: true });
  copyFileSync(pki.trustAnchorsPem, trustAnchors);
  chmodSync(trustAnchors, 0o644);
  return { feedUrl: pathToFileURL(feedDir).href + '/', trustAnchors };
}

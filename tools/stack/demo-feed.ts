import { buildFeed, createTestPki } from '@sup/testing';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A demo vendor (its own CA) and a signed feed, made on first run so the pipeline has something
 * to do at once. One update is forged (signed by a CA nobody trusts) and one is corrupted, to show
 * rejection. Rebuilt with a higher sequence once the index expires.
 */
export async function ensureDemoFeed(
  dataDir: string,
): Promise<{ feedUrl: string; trustAnchors: string }> {
  const root = join(dataDir, 'demo');
  const feedDir = join(root, 'feed');
  const indexPath = join(feedDir, 'index.json');
  const pkiDir = join(root, 'pki');
  const trustAnchors = join(pkiDir, 'trust-anchors.pem');
  const current = existsSync(indexPath)
    ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { sequence: number; expiresAt: string })
    : undefined;
  if (
    current &&
    Date.parse(current.expiresAt) > Date.now() + 86_400_000 &&
    existsSync(trustAnchors)
  ) {
    return { feedUrl: pathToFileURL(feedDir).href + '/', trustAnchors };
  }
  const pki = await createTestPki(pkiDir);
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
  return { feedUrl: pathToFileURL(feedDir).href + '/', trustAnchors: pki.trustAnchorsPem };
}

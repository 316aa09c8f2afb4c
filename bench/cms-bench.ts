import {
  ChainCache,
  parseTrustAnchors,
  verifyDetachedCms,
  type ChainCacheStats,
  type TrustAnchors,
} from '@sup/integrity';
import {
  createTestPki,
  generateKey,
  issueCertificate,
  runOpenssl,
  SIGNER_EXTENSIONS,
  type TestSigner,
} from '@sup/testing';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fmt } from './stats';

export interface CmsBenchResult {
  artifactBytes: number;
  /** Distinct artifacts, each with its own openssl-made signature, verified in turn. */
  signatures: number;
  /** Verifications per second on one core with the signer chain cached (the steady state). */
  verificationsPerSecond: number;
  /** The same with `chainCache: null`: the chain is built and its signatures checked every time. */
  uncachedVerificationsPerSecond: number;
  /** `openssl speed rsa2048`: raw RSA-2048 public-key operations per second on one core. */
  opensslVerifyPerSecond: number;
  seconds: number;
  chainCache: ChainCacheStats;
}

const CODE_SIGNING_EXTENSIONS = SIGNER_EXTENSIONS;

/** The artifact from memory in one chunk; the await stands for the read a service would do. */
async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  await Promise.resolve();
  yield bytes;
}

/** Runs `verifyOnce` back to back on this thread for `seconds`; returns calls per second. */
async function rate(seconds: number, verifyOnce: (i: number) => Promise<unknown>): Promise<number> {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  let count = 0;
  while (elapsed < budget) {
    for (let k = 0; k < 50; k++) await verifyOnce(count++);
    elapsed = process.hrtime.bigint() - start;
  }
  return count / (Number(elapsed) / 1e9);
}

/** `rsa 2048 bits 0.000272s 0.000017s   3670.1  60119.0`: the last figure is verify/s. */
export function parseOpensslRsaVerify(output: string): number {
  const match = /^rsa\s+2048 bits\s+\S+\s+\S+\s+[\d.]+\s+([\d.]+)\s*$/m.exec(output);
  if (!match?.[1]) throw new Error(`cannot find the rsa 2048 verify/s figure in:\n${output}`);
  return Number(match[1]);
}

/**
 * verifyDetachedCms over 64 KiB artifacts signed by openssl with an RSA-2048 key whose
 * certificate a trusted root issued, as a feed's artifacts are: each verification parses the
 * CMS, checks the RSA signature over the signed attributes and hashes the content; the chain to
 * the root comes from the chain cache after the first. Compared with `openssl speed rsa2048`.
 */
export async function benchCms(
  workDir: string,
  options: { seconds?: number; signatures?: number; artifactBytes?: number } = {},
): Promise<CmsBenchResult> {
  const { seconds = 3, signatures = 16, artifactBytes = 64 * 1024 } = options;
  const dir = join(workDir, 'cms-bench');
  const pki = await createTestPki(dir);
  const key = join(dir, 'bench-signer.key');
  await generateKey(key, { kind: 'rsa', bits: 2048 });
  const subject = '/O=SUP Bench/CN=SUP Bench RSA-2048 Signer';
  const signer: TestSigner = {
    name: 'bench',
    subject: 'O=SUP Bench, CN=SUP Bench RSA-2048 Signer',
    certPem: await issueCertificate({
      dir,
      name: 'bench-signer',
      subject,
      key,
      caCert: pki.rootPem,
      caKey: pki.rootKeyPem,
      extensions: CODE_SIGNING_EXTENSIONS,
      days: 30,
    }),
    keyPem: key,
    chainPem: pki.rootPem,
  };
  const anchors: TrustAnchors = parseTrustAnchors(await readFile(pki.trustAnchorsPem));

  process.stdout.write(`signing ${signatures} artifacts of ${artifactBytes} bytes with openssl…\n`);
  const samples = await Promise.all(
    Array.from({ length: signatures }, async () => {
      const content = randomBytes(artifactBytes);
      const signature = await pki.signBuffer(content, signer, { includeIntermediate: false });
      return { content, signature };
    }),
  );
  const verifyWith = (chainCache: ChainCache | null) => (i: number) => {
    const sample = samples[i % samples.length];
    if (!sample) throw new Error('no sample');
    return verifyDetachedCms({
      signature: sample.signature,
      content: () => once(sample.content),
      trustAnchors: anchors,
      chainCache,
    });
  };

  const chainCache = new ChainCache();
  const first = await verifyWith(chainCache)(0);
  if (first.chain.length !== 2 || first.signatureAlgorithm !== 'rsa-pkcs1-v1_5') {
    throw new Error(`unexpected bench chain ${JSON.stringify(first.chain)}`);
  }
  await rate(0.5, verifyWith(chainCache)); // warm-up: JIT and the certificate cache
  const verificationsPerSecond = await rate(seconds, verifyWith(chainCache));
  const uncachedVerificationsPerSecond = await rate(Math.min(seconds, 1), verifyWith(null));
  const openssl = await runOpenssl(['speed', '-seconds', String(seconds), 'rsa2048']);
  const opensslVerifyPerSecond = parseOpensslRsaVerify(openssl);

  process.stdout.write(
    `cms: ${fmt(verificationsPerSecond, 0)} verifications/s (chain cached), ${fmt(uncachedVerificationsPerSecond, 0)}/s (chain built each time), openssl rsa2048 verify ${fmt(opensslVerifyPerSecond, 0)}/s\n`,
  );
  return {
    artifactBytes,
    signatures,
    verificationsPerSecond,
    uncachedVerificationsPerSecond,
    opensslVerifyPerSecond,
    seconds,
    chainCache: chainCache.stats(),
  };
}

/** The results-section lines for docs/benchmarks.md. */
export function cmsMarkdown(result: CmsBenchResult): string[] {
  const kib = fmt(result.artifactBytes / 1024, 0);
  const { hits, misses } = result.chainCache;
  return [
    `**\`verifyDetachedCms\`, ${kib} KiB artifact, RSA-2048 signer issued by the trusted root** (one core, ${result.seconds} s, ${result.signatures} openssl-made signatures in turn; chain cache: ${hits} hits, ${misses} misses)`,
    '',
    '| path | verifications/s |',
    '| --- | ---: |',
    `| \`verifyDetachedCms\` (chain cached) | ${fmt(result.verificationsPerSecond, 0)} |`,
    `| \`verifyDetachedCms\` (\`chainCache: null\`, chain built every call) | ${fmt(result.uncachedVerificationsPerSecond, 0)} |`,
    `| \`openssl speed -seconds ${result.seconds} rsa2048\` (verify/s, RSA only) | ${fmt(result.opensslVerifyPerSecond, 0)} |`,
  ];
}

import { createArtifactStore } from '@sup/artifact-store';
import { hashStream } from '@sup/integrity';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fmt, median } from './stats';

const run = promisify(execFile);

export interface Sha256Result {
  bytes: number;
  runs: number;
  pipelineMiBs: number;
  opensslMiBs: number;
  ratio: number;
  pipelineSeconds: number[];
  opensslSeconds: number[];
  digestsAgree: boolean;
}

async function writeFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(1024 * 1024);
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/**
 * The checksum service's path (artifact store read stream → node:crypto SHA-256) against
 * `openssl dgst -sha256` on the same file, alternating runs so both see the same page cache.
 */
export async function benchSha256(
  workDir: string,
  bytes: number,
  runs: number,
): Promise<Sha256Result> {
  const store = createArtifactStore({ driver: 'fs', dir: join(workDir, 'store') });
  const source = join(workDir, 'artifact.bin');
  await writeFile(source, bytes);
  const { key } = await store.put(createReadStream(source));
  const stored = join(workDir, 'store', 'sha256', key.slice(0, 2), key);
  const pipelineSeconds: number[] = [];
  const opensslSeconds: number[] = [];
  let digestsAgree = true;
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint();
    const ours = await hashStream(await store.open(key));
    pipelineSeconds.push(Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-r', stored]);
    opensslSeconds.push(Number(process.hrtime.bigint() - t) / 1e9);
    digestsAgree &&= stdout.split(' ')[0] === ours.sha256 && ours.sha256 === key;
  }
  const mib = bytes / 1024 / 1024;
  const pipelineMiBs = mib / median(pipelineSeconds);
  const opensslMiBs = mib / median(opensslSeconds);
  process.stdout.write(
    `sha256 ${fmt(mib, 0)} MiB: pipeline ${fmt(pipelineMiBs)} MiB/s, openssl ${fmt(opensslMiBs)} MiB/s, ratio ${fmt(pipelineMiBs / opensslMiBs, 2)}\n`,
  );
  return {
    bytes,
    runs,
    pipelineMiBs,
    opensslMiBs,
    ratio: pipelineMiBs / opensslMiBs,
    pipelineSeconds,
    opensslSeconds,
    digestsAgree,
  };
}

import { createArtifactStore, hashArtifact } from '@sup/artifact-store';
import { hashStream } from '@sup/integrity';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fmt, median } from './stats';

const run = promisify(execFile);

export interface Sha256Result {
  bytes: number;
  runs: number;
  /** The checksum path: `hashArtifact(store, key)`. */
  pipelineMiBs: number;
  /** The artifact store's read stream into `hashStream`, the checksum path before `hashArtifact`. */
  streamMiBs: number;
  opensslMiBs: number;
  /** node:crypto SHA-256 over a buffer already in memory: what any read path can approach at best. */
  inMemoryMiBs: number;
  ratio: number;
  pipelineSeconds: number[];
  streamSeconds: number[];
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

async function timed<T>(seconds: number[], work: () => Promise<T>): Promise<T> {
  const t = process.hrtime.bigint();
  const result = await work();
  seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
  return result;
}

/** MiB/s of createHash('sha256') over `bytes` from one 64 MiB in-memory buffer. */
function inMemoryMiBs(bytes: number): number {
  const block = randomBytes(64 * 1024 * 1024);
  const t = process.hrtime.bigint();
  const hash = createHash('sha256');
  for (let done = 0; done < bytes; done += block.length) {
    hash.update(block.subarray(0, Math.min(block.length, bytes - done)));
  }
  hash.digest();
  return bytes / 1024 / 1024 / (Number(process.hrtime.bigint() - t) / 1e9);
}

/**
 * The checksum service's path (`hashArtifact` on the fs artifact store) against
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
  // put() fsyncs the stored copy; the source's unwritten pages would otherwise be flushed in the
  // background while this bench and the next ones measure, on a machine with two cores.
  await rm(source);
  const stored = join(workDir, 'store', 'sha256', key.slice(0, 2), key);
  const pipelineSeconds: number[] = [];
  const streamSeconds: number[] = [];
  const opensslSeconds: number[] = [];
  let digestsAgree = true;
  for (let i = 0; i < runs; i++) {
    const ours = await timed(pipelineSeconds, () => hashArtifact(store, key));
    const streamed = await timed(streamSeconds, async () => hashStream(await store.open(key)));
    const { stdout } = await timed(opensslSeconds, () =>
      run('openssl', ['dgst', '-sha256', '-r', stored]),
    );
    digestsAgree &&=
      stdout.split(' ')[0] === ours.sha256 && ours.sha256 === key && streamed.sha256 === key;
  }
  const mib = bytes / 1024 / 1024;
  const pipelineMiBs = mib / median(pipelineSeconds);
  const streamMiBs = mib / median(streamSeconds);
  const opensslMiBs = mib / median(opensslSeconds);
  const ceiling = inMemoryMiBs(bytes);
  process.stdout.write(
    `sha256 ${fmt(mib, 0)} MiB: checksum path ${fmt(pipelineMiBs)} MiB/s, read stream ${fmt(streamMiBs)} MiB/s, openssl ${fmt(opensslMiBs)} MiB/s, in memory ${fmt(ceiling)} MiB/s, ratio ${fmt(pipelineMiBs / opensslMiBs, 2)}\n`,
  );
  return {
    bytes,
    runs,
    pipelineMiBs,
    streamMiBs,
    opensslMiBs,
    inMemoryMiBs: ceiling,
    ratio: pipelineMiBs / opensslMiBs,
    pipelineSeconds,
    streamSeconds,
    opensslSeconds,
    digestsAgree,
  };
}

/** The results-section lines for docs/benchmarks.md. */
export function sha256Markdown(sha: Sha256Result): string[] {
  const each = (seconds: number[]) => seconds.map((s) => fmt(s, 2)).join(', ');
  return [
    `**SHA-256 of a ${fmt(sha.bytes / 1024 / 1024, 0)} MiB artifact** (median of ${sha.runs} alternating runs, same file, same page cache; digests agree: ${sha.digestsAgree ? 'yes' : 'NO'})`,
    '',
    '| path | MiB/s | seconds (each run) |',
    '| --- | ---: | --- |',
    `| checksum path (\`hashArtifact\`: fs store → node:crypto) | ${fmt(sha.pipelineMiBs)} | ${each(sha.pipelineSeconds)} |`,
    `| artifact store read stream → \`hashStream\` (previous path) | ${fmt(sha.streamMiBs)} | ${each(sha.streamSeconds)} |`,
    `| \`openssl dgst -sha256\` | ${fmt(sha.opensslMiBs)} | ${each(sha.opensslSeconds)} |`,
    `| node:crypto on a buffer in memory (ceiling) | ${fmt(sha.inMemoryMiBs)} | |`,
    `| **ratio (checksum path / openssl)** | **${fmt(sha.ratio, 2)}** | |`,
  ];
}

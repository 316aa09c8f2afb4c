import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { benchCms, cmsMarkdown } from './cms-bench';
import { benchPipeline } from './pipeline-bench';
import { benchSha256, sha256Markdown } from './sha256-bench';
import { fmt } from './stats';

/**
 * `npm run bench`: measures, on this machine and in this run, the checksum path and CMS
 * verification against openssl and the pipeline end to end, then rewrites the results section of
 * docs/benchmarks.md. BENCH_SHA256_MIB (default 1024), BENCH_CMS_SECONDS (default 3) and
 * BENCH_UPDATES (default 500) scale it down for a quick look.
 */
async function main(): Promise<void> {
  const mib = Number(process.env.BENCH_SHA256_MIB || 1024);
  const count = Number(process.env.BENCH_UPDATES || 500);
  const cmsSeconds = Number(process.env.BENCH_CMS_SECONDS || 3);
  const work = mkdtempSync(join(tmpdir(), 'sup-bench-'));
  try {
    const sha = await benchSha256(work, mib * 1024 * 1024, 3);
    const cms = await benchCms(work, { seconds: cmsSeconds });
    const pipe = await benchPipeline(work, count);
    const rows = Object.entries(pipe.stages)
      .map(([label, s]) => `| ${label} | ${fmt(s.p50, 0)} | ${fmt(s.p99, 0)} |`)
      .join('\n');
    const section = [
      `<!-- bench:start -->`,
      `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}.`,
      '',
      ...sha256Markdown(sha),
      '',
      ...cmsMarkdown(cms),
      '',
      `**${pipe.updates} small signed updates (4 KiB each), sync request → published**, five services as separate processes on one NATS server and FerretDB: ${fmt(pipe.wallSeconds)} s, **${fmt(pipe.updatesPerSecond)} updates/s**.`,
      '',
      '| stage | p50 ms | p99 ms |',
      '| --- | ---: | ---: |',
      rows,
      `<!-- bench:end -->`,
    ].join('\n');
    const doc = resolve(__dirname, '../../docs/benchmarks.md');
    const text = readFileSync(doc, 'utf8');
    writeFileSync(doc, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, section));
    process.stdout.write(`\n${section}\n\nwritten to ${doc}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/**
 * Writes the contract documents generated from libs/contracts (docs/asyncapi.json and
 * docs/openapi.json). With `--check`, writes nothing and exits 1 if a committed document is stale.
 *
 *   tsc -p tsconfig.build.json && tsc-alias -p tsconfig.build.json && node dist/tools/generate-contracts.js [--check]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONTRACT_DOCUMENTS, CONTRACTS_GENERATE_COMMAND, renderDocument } from '@sup/contracts';

/** The repository root: the nearest directory up from here holding nx.json (this runs from dist/tools too). */
function repositoryRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const root = repositoryRoot();
  const stale: string[] = [];
  for (const { file, build } of CONTRACT_DOCUMENTS) {
    const path = resolve(root, file);
    const text = renderDocument(build());
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (current === text) {
      console.log(`${file}: up to date`);
    } else if (check) {
      stale.push(file);
      console.error(`${file}: ${current === null ? 'missing' : 'stale'}`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      console.log(`${file}: written`);
    }
  }
  if (stale.length) console.error(`Run \`${CONTRACTS_GENERATE_COMMAND}\` and commit the result.`);
  return stale.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process';
import { freePort, waitForPort } from './readiness';
import { repoRoot } from './repo-root';

export interface RunningMongo {
  uri: string;
  /** Undefined when an external server (MONGODB_URI) is used. */
  process?: ManagedProcess;
  stop: () => Promise<void>;
}

/**
 * Hash of what deploy/ferretdb/build.sh builds from, computed as it does: these files, then
 * patches/*.patch in byte order, concatenated. build.sh writes it to .build/stamp after a build.
 */
export function ferretDbInputsHash(dir: string): string {
  const patches = readdirSync(join(dir, 'patches'))
    .filter((f) => f.endsWith('.patch'))
    .sort()
    .map((f) => join('patches', f));
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum', 'build.sh', ...patches]) {
    hash.update(readFileSync(join(dir, file)));
  }
  return hash.digest('hex');
}

/**
 * The local MongoDB-wire server: FerretDB v1 on SQLite with deploy/ferretdb/patches applied,
 * built by `npm run build` (deploy/ferretdb/build.sh), or FERRETDB_BIN. Never built here: on a cold
 * Go cache that takes minutes, far beyond any test hook's timeout.
 */
export function ferretDbBinary(): string {
  const override = process.env.FERRETDB_BIN;
  if (override) {
    if (!existsSync(override)) throw new Error(`FERRETDB_BIN=${override} does not exist`);
    return override;
  }
  const dir = join(repoRoot(), 'deploy/ferretdb');
  const binary = join(dir, 'ferretdb-local');
  if (!existsSync(binary)) {
    throw new Error(
      `FerretDB is not built (${binary} is missing): run \`npm run build\`, which runs deploy/ferretdb/build.sh`,
    );
  }
  const stampFile = join(dir, '.build/stamp');
  const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
  if (stamp !== ferretDbInputsHash(dir)) {
    throw new Error(
      `${binary} was not built from the current deploy/ferretdb sources and patches: run \`npm run build\``,
    );
  }
  return binary;
}

export async function startFerretDb(
  options: { dataDir?: string; logFile?: string; port?: number; timeoutMs?: number } = {},
): Promise<RunningMongo> {
  const binary = ferretDbBinary();
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sup-ferretdb-'));
  const proc = startProcess(
    'ferretdb',
    binary,
    ['-listen', `127.0.0.1:${port}`, '-sqlite-dir', dataDir],
    { logFile: options.logFile },
  );
  await waitForPort(proc, port, options.timeoutMs ?? 30_000);
  return { uri: `mongodb://127.0.0.1:${port}/`, process: proc, stop: () => proc.stop() };
}

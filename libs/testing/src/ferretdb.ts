import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, repoRoot, startProcess, waitForPort, type ManagedProcess } from './processes';

export interface RunningMongo {
  uri: string;
  process?: ManagedProcess;
  stop: () => Promise<void>;
}

/**
 * The local MongoDB-wire server: FerretDB v1 on SQLite, built from `deploy/ferretdb` with the Go
 * toolchain on first use (about a minute, then cached in the repo's .gitignored binary).
 */
export function ensureFerretDbBinary(): string {
  const SOURCE_DIR = join(repoRoot(), 'deploy/ferretdb');
  if (process.env.FERRETDB_BIN) return process.env.FERRETDB_BIN;
  const binary = join(SOURCE_DIR, 'ferretdb-local');
  // Rebuilt whenever its source is newer, so a pulled change to main.go takes effect.
  const built = existsSync(binary) ? statSync(binary).mtimeMs : 0;
  const source = Math.max(
    ...['main.go', 'go.mod', 'go.sum'].map((f) => statSync(join(SOURCE_DIR, f)).mtimeMs),
  );
  if (built > source) return binary;
  try {
    execFileSync('go', ['build', '-o', binary, '.'], { cwd: SOURCE_DIR, stdio: 'inherit' });
  } catch (error) {
    throw new Error(
      `could not build FerretDB from ${SOURCE_DIR} (needs Go and the Go module proxy): ${(error as Error).message}`,
    );
  }
  return binary;
}

export async function startFerretDb(
  options: { dataDir?: string; logFile?: string; port?: number } = {},
): Promise<RunningMongo> {
  const binary = ensureFerretDbBinary();
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sup-ferretdb-'));
  const proc = startProcess(
    'ferretdb',
    binary,
    ['-listen', `127.0.0.1:${port}`, '-sqlite-dir', dataDir],
    { logFile: options.logFile },
  );
  await waitForPort(port, 30_000, 'ferretdb');
  return { uri: `mongodb://127.0.0.1:${port}/`, process: proc, stop: () => proc.stop() };
}

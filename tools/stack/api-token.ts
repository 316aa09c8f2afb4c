import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AdminToken {
  /** The file holding the token itself (mode 0600); its path is printed, never its content. */
  tokenPath: string;
  token: string;
  /** `API_TOKENS_FILE` for the services: names, roles and SHA-256 hashes only. */
  tokensFile: string;
  created: boolean;
  /** False when an operator edited the hashes file and took the admin token out of it. */
  listed: boolean;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The local stack's admin token: made on the first run under `DATA_DIR/api`, kept afterwards.
 * The hashes file is only written when missing, so tokens an operator adds to it stay.
 */
export function ensureAdminToken(dataDir: string): AdminToken {
  const dir = join(dataDir, 'api');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tokenPath = join(dir, 'admin.token');
  const tokensFile = join(dir, 'tokens.json');
  let created = false;
  if (!existsSync(tokenPath)) {
    writeFileSync(tokenPath, `sup_admin_${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    created = true;
  }
  const token = readFileSync(tokenPath, 'utf8').trim();
  const hash = sha256(token);
  if (!existsSync(tokensFile)) {
    // Written whole under another name and renamed: a service watching the file never reads half.
    const tmp = `${tokensFile}.tmp`;
    const tokens = [{ name: 'admin', role: 'admin', sha256: hash }];
    writeFileSync(tmp, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, tokensFile);
  }
  const listed = readFileSync(tokensFile, 'utf8').includes(hash);
  return { tokenPath, token, tokensFile, created, listed };
}

/**
 * A machine token of the local stack (`DATA_DIR/api/<name>.token`, e.g. the demo relay's and the
 * simulated agents'), added to the hashes file when it is not listed yet. The services reload
 * that file after a short quiet time, so the caller waits before relying on it.
 */
export function ensureMachineToken(
  dataDir: string,
  name: string,
  role: 'agent' | 'relay',
): { token: string; tokenPath: string } {
  const dir = join(dataDir, 'api');
  const tokenPath = join(dir, `${name}.token`);
  if (!existsSync(tokenPath)) {
    writeFileSync(tokenPath, `sup_${role}_${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  }
  const token = readFileSync(tokenPath, 'utf8').trim();
  const tokensFile = join(dir, 'tokens.json');
  const parsed = JSON.parse(readFileSync(tokensFile, 'utf8')) as {
    tokens: { name: string; role: string; sha256: string }[];
  };
  const hash = sha256(token);
  if (!parsed.tokens.some((t) => t.sha256 === hash)) {
    parsed.tokens = [...parsed.tokens.filter((t) => t.name !== name), { name, role, sha256: hash }];
    const tmp = `${tokensFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(parsed, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, tokensFile);
  }
  return { token, tokenPath };
}

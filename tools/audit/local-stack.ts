import { NATS_ADMIN_USER } from '@sup/contracts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dataDir = (env: NodeJS.ProcessEnv): string => resolve(env.DATA_DIR || '.data');

/**
 * Against the stack of `npm start` (no NATS_URL, no credentials given), the operators' NATS user
 * is read from the file `npm start` keeps under DATA_DIR, so the command just works there.
 */
export function withLocalAdmin(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.NATS_URL || env.NATS_USER || env.NATS_CREDS) return env;
  const file = join(dataDir(env), 'nats-auth', 'nats-users.json');
  if (!existsSync(file)) return env;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    users?: Record<string, { user: string; password: string }>;
  };
  const admin = parsed.users?.[NATS_ADMIN_USER];
  return admin ? { ...env, NATS_USER: admin.user, NATS_PASSWORD: admin.password } : env;
}

/** The public key the audit service of `npm start` wrote beside the key it generated, if any. */
export function localPublicKeyFile(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(dataDir(env), 'audit', 'checkpoint-signing-key.pub.pem');
  return existsSync(file) ? file : undefined;
}

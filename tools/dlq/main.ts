import { NATS_ADMIN_USER } from '@sup/contracts';
import { runDeadLetterCli } from '@sup/jetstream';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Against the stack of `npm start` (no NATS_URL, no credentials given), the operators' NATS user
 * is read from the file `npm start` keeps under DATA_DIR, so `npm run dlq -- list` just works.
 */
function withLocalAdmin(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.NATS_URL || env.NATS_USER || env.NATS_CREDS) return env;
  const file = join(resolve(env.DATA_DIR || '.data'), 'nats-auth', 'nats-users.json');
  if (!existsSync(file)) return env;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
    users?: Record<string, { user: string; password: string }>;
  };
  const admin = parsed.users?.[NATS_ADMIN_USER];
  return admin ? { ...env, NATS_USER: admin.user, NATS_PASSWORD: admin.password } : env;
}

/** `npm run dlq -- list|show|replay|drop …`; the logic (and its specs) live in libs/jetstream. */
runDeadLetterCli(process.argv.slice(2), {
  env: withLocalAdmin(process.env),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `dlq: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

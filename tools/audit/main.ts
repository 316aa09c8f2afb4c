import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ChainVerifier, describeReport } from '@sup/audit';
import { natsAuthFromEnv, natsAuthOptions, redactUrlSecrets } from '@sup/jetstream';
import { chainSnapshot, readChain } from './chain-reader';
import { localPublicKeyFile, withLocalAdmin } from './local-stack';

const USAGE = `usage: npm run audit:verify -- [--public-key <pem file>] [--allow-expired-start] [--json]

Reads the whole AUDIT_CHAIN stream, checks every record's hash and link and every checkpoint's
Ed25519 signature, and reports OK with counts, or the first record that was altered, removed or
reordered. --public-key (or AUDIT_PUBLIC_KEY_FILE) is the audit service's public key; by default
the one it wrote beside the key it generated (DATA_DIR/audit/checkpoint-signing-key.pub.pem).
--allow-expired-start accepts a chain that starts after 1 when the stream has an age or size limit.

Environment: NATS_URL (default nats://127.0.0.1:4222), NATS_USER + NATS_PASSWORD, or NATS_CREDS
(against npm start's NATS, its admin user from DATA_DIR/nats-auth).
Exit codes: 0 the chain verifies, 1 it does not (or NATS failed), 2 bad arguments.`;

class UsageError extends Error {}

function options(argv: string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'public-key': { type: 'string' },
      'allow-expired-start': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  const keyFile = values['public-key'] ?? env.AUDIT_PUBLIC_KEY_FILE ?? localPublicKeyFile(env);
  if (!keyFile)
    throw new UsageError(
      '--public-key <pem file> (or AUDIT_PUBLIC_KEY_FILE) is required: no generated key under DATA_DIR',
    );
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(readFileSync(keyFile));
  } catch (error) {
    throw new UsageError(`cannot read a public key from ${keyFile}: ${String(error)}`);
  }
  return { publicKey, allowExpiredStart: values['allow-expired-start'], json: values.json };
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(argv, env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message ? `audit:verify: ${message}\n` : ''}${USAGE}\n`);
    return 2;
  }
  const url = env.NATS_URL || 'nats://127.0.0.1:4222';
  let nc: NatsConnection;
  try {
    nc = (await connect({
      servers: url.split(',').map((s) => s.trim()),
      name: 'audit-verify',
      timeout: 5_000,
      ...natsAuthOptions(natsAuthFromEnv(env)),
    })) as NatsConnection;
  } catch (error) {
    const reason = redactUrlSecrets(error instanceof Error ? error.message : String(error));
    throw new Error(`cannot connect to NATS at ${redactUrlSecrets(url)}: ${reason}`);
  }
  try {
    const snapshot = await chainSnapshot(await jetstreamManager(nc));
    const firstSeq = opts.allowExpiredStart && snapshot.limited ? snapshot.firstSeq : 1;
    const verifier = new ChainVerifier({ publicKey: opts.publicKey, firstSeq });
    for await (const entry of readChain(jetstream(nc), snapshot.lastSeq)) {
      if (!verifier.push(entry)) break;
    }
    const report = verifier.finish(snapshot.lastSeq);
    process.stdout.write(`${opts.json ? JSON.stringify(report) : describeReport(report)}\n`);
    return report.ok ? 0 : 1;
  } finally {
    await nc.close();
  }
}

main(process.argv.slice(2), withLocalAdmin(process.env)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `audit:verify: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);

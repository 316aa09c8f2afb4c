import { credsAuthenticator } from '@nats-io/nats-core';
import { readFileSync } from 'node:fs';
import { errorMessage } from './errors';
import type { ConnectionOptions } from './nats-types';

/** How a client proves who it is: a user and password, or a `.creds` file (JWT and seed). */
export type NatsAuth = { user: string; password: string } | { credsFile: string };

/** Raised for unusable credentials settings; the message names the variable. */
export class NatsAuthError extends Error {
  override name = 'NatsAuthError';
}

/**
 * `NATS_USER` + `NATS_PASSWORD`, or `NATS_CREDS`; nothing set means no credentials, so the
 * server's own configuration decides (an operator's server that needs none, or refuses).
 */
export function natsAuthFromEnv(env: NodeJS.ProcessEnv): NatsAuth | undefined {
  const user = env.NATS_USER || undefined;
  const password = env.NATS_PASSWORD || undefined;
  const credsFile = env.NATS_CREDS || undefined;
  if (credsFile && (user || password))
    throw new NatsAuthError('set NATS_CREDS or NATS_USER/NATS_PASSWORD, not both');
  if (credsFile) return { credsFile };
  if (password && !user) throw new NatsAuthError('NATS_PASSWORD is set without NATS_USER');
  if (user) return { user, password: password ?? '' };
  return undefined;
}

/** The connection options for `auth`; a creds file is read now, so a bad path fails before connecting. */
export function natsAuthOptions(auth: NatsAuth | undefined): Partial<ConnectionOptions> {
  if (!auth) return {};
  if ('user' in auth) return { user: auth.user, pass: auth.password };
  let creds: Uint8Array;
  try {
    creds = readFileSync(auth.credsFile);
  } catch (error) {
    throw new NatsAuthError(`NATS_CREDS: cannot read ${auth.credsFile}: ${errorMessage(error)}`);
  }
  return { authenticator: credsAuthenticator(creds) };
}

/** `scheme://user:secret@host` (or `scheme://token@host`): the userinfo of every URL in a text. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(?::([^\s/@]*))?@/gi;

/**
 * Masks the secret part of every URL in `text`: the password (the user stays, it helps an
 * operator), or the whole userinfo when there is no password (NATS takes a token there).
 */
export function redactUrlSecrets(text: string): string {
  return text.replace(URL_USERINFO, (_, scheme: string, user: string, secret?: string) =>
    secret === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

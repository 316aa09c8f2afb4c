import { redactUrlSecrets } from '@sup/jetstream';
import pino, { type Logger } from 'pino';

/**
 * Fields that hold secrets wherever they appear in a log object: request headers (bearer tokens,
 * cookies), passwords and tokens of configuration objects. pino replaces them before writing.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  'authorization',
  'password',
  'pass',
  'token',
  'secret',
  '*.password',
  '*.pass',
  '*.token',
  '*.secret',
  'config.natsAuth.password',
];

/** URLs with `user:password@` keep the user and lose the password, in any string field. */
function scrubStrings(object: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'string') continue;
    const clean = redactUrlSecrets(value);
    if (clean === value) continue;
    copy ??= { ...object };
    copy[key] = clean;
  }
  return copy ?? object;
}

/** Error messages and stacks quote what failed, URLs included (e.g. a MongoDB URI with its password). */
function errorSerializer(error: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(error);
  if (typeof serialized.message === 'string')
    serialized.message = redactUrlSecrets(serialized.message);
  if (typeof serialized.stack === 'string') serialized.stack = redactUrlSecrets(serialized.stack);
  return serialized;
}

/** One JSON logger per process; `service` is on every line so aggregated logs stay attributable. */
export function createLogger(
  service: string,
  level: string,
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: errorSerializer },
    formatters: { level: (label) => ({ level: label }), log: scrubStrings },
    hooks: {
      // The message itself: `cannot connect to ${url}` must not carry the URL's password.
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a: unknown) => (typeof a === 'string' ? redactUrlSecrets(a) : a)) as Parameters<
            typeof method
          >,
        );
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  DeadLetterAdmin,
  DLQ_STREAM,
  originalSubjectOf,
  type ActionResult,
  type DeadLetterEntry,
  type DeadLetterFilter,
} from './dead-letter-admin';
import { errorMessage } from './errors';
import { NatsAuthError, natsAuthFromEnv, natsAuthOptions, redactUrlSecrets } from './nats-auth';
import type { ConnectionOptions, NatsConnection } from './nats-types';

/** Where the CLI reads its settings and writes: the process, or a spec. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: npm run dlq -- <command> [options]      (after npm run build)

Commands:
  list [--service S] [--subject-filter F] [--limit N]
        Dead letters, oldest first: DLQ seq, service, original subject, deliveries, failure
        time, first line of the error. --limit defaults to 50.
  show <seq>
        One dead letter as JSON (the original event is its "event" field).
  replay <seq>... | --all [--service S] [--subject-filter F]
        Publishes each original event again to its original subject under its CloudEvent id
        (JetStream de-duplicates it), then deletes the dead letter. Safe to repeat. Every
        consumer of that subject receives it again, not only the one that failed.
  drop <seq>... | --all --yes [--service S] [--subject-filter F]
        Prints, then deletes dead letters without replaying them.

--subject-filter is a NATS filter on the original subject, e.g. 'updates.v1.imported.>'.

Environment: NATS_URL (default nats://127.0.0.1:4222, comma-separated for a cluster),
NATS_USER + NATS_PASSWORD, or NATS_CREDS (a .creds file).
Exit codes: 0 done, 1 something failed (each failure is reported), 2 bad usage.
`;

type Action =
  | { name: 'list'; filter: DeadLetterFilter; limit: number }
  | { name: 'show'; seq: number }
  | { name: 'replay' | 'drop'; seqs: number[]; all: boolean; filter: DeadLetterFilter };
export type Command = { name: 'help' } | Action;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const DEFAULT_LIMIT = 50;
const SERVICE = /^[a-z0-9-]+$/;

function sequence(text: string): number {
  const seq = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new UsageError(`${JSON.stringify(text)} is not a DLQ sequence number (see list)`);
  }
  return seq;
}

function subjectFilter(text: string): string {
  const tokens = text.split('.');
  const ok = tokens.every(
    (t, i) => t.length > 0 && !/\s/.test(t) && (t !== '>' || i === tokens.length - 1),
  );
  if (!ok)
    throw new UsageError(`--subject-filter ${JSON.stringify(text)} is not a NATS subject filter`);
  return text;
}

/** Parses the arguments after `npm run dlq --`; throws UsageError for anything off. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        service: { type: 'string' },
        'subject-filter': { type: 'string' },
        limit: { type: 'string' },
        all: { type: 'boolean' },
        yes: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const { values, positionals } = parsed;
  if (values.help) return { name: 'help' };
  const [name, ...args] = positionals;
  if (!name) throw new UsageError('no command given');

  if (values.service !== undefined && !SERVICE.test(values.service)) {
    throw new UsageError(`--service ${JSON.stringify(values.service)} is not a service name`);
  }
  const filter: DeadLetterFilter = {
    ...(values.service !== undefined ? { service: values.service } : {}),
    ...(values['subject-filter'] !== undefined
      ? { subjectFilter: subjectFilter(values['subject-filter']) }
      : {}),
  };
  const refuse = (option: string, used: unknown): void => {
    if (used !== undefined) throw new UsageError(`${name} does not take ${option}`);
  };

  switch (name) {
    case 'list': {
      if (args.length > 0) throw new UsageError('list takes no sequence numbers; see show');
      refuse('--all', values.all);
      refuse('--yes', values.yes);
      let limit = DEFAULT_LIMIT;
      if (values.limit !== undefined) {
        limit = /^\d+$/.test(values.limit) ? Number(values.limit) : NaN;
        if (!Number.isSafeInteger(limit) || limit < 1) {
          throw new UsageError(`--limit ${JSON.stringify(values.limit)} is not a positive number`);
        }
      }
      return { name, filter, limit };
    }
    case 'show': {
      for (const [option, used] of Object.entries(values)) refuse(`--${option}`, used);
      if (args.length !== 1) throw new UsageError('show takes exactly one sequence number');
      return { name, seq: sequence(args[0]) };
    }
    case 'replay':
    case 'drop': {
      refuse('--limit', values.limit);
      if (name === 'replay') refuse('--yes', values.yes);
      const all = values.all === true;
      if (all && args.length > 0) {
        throw new UsageError(`${name} takes sequence numbers or --all, not both`);
      }
      if (!all && args.length === 0)
        throw new UsageError(`${name} needs sequence numbers or --all`);
      if (!all && (filter.service || filter.subjectFilter)) {
        throw new UsageError('--service and --subject-filter select dead letters for --all only');
      }
      if (name === 'drop' && all && !values.yes) {
        throw new UsageError(
          'drop --all deletes every matching dead letter for good; add --yes to mean it',
        );
      }
      return { name, seqs: [...new Set(args.map(sequence))], all, filter };
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  }
}

const natsUrl = (env: NodeJS.ProcessEnv): string => env.NATS_URL || 'nats://127.0.0.1:4222';

function connectionOptions(env: NodeJS.ProcessEnv): ConnectionOptions {
  const servers = natsUrl(env)
    .split(',')
    .map((s) => s.trim());
  try {
    return {
      servers,
      name: 'dlq-cli',
      timeout: 5_000,
      ...natsAuthOptions(natsAuthFromEnv(env)),
    };
  } catch (error) {
    if (error instanceof NatsAuthError) throw new UsageError(error.message);
    throw error;
  }
}

const firstLine = (text: string, max = 80): string => {
  const line = text.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

function row(entry: DeadLetterEntry): string[] {
  const { letter } = entry;
  return [
    String(entry.seq),
    entry.service,
    originalSubjectOf(entry),
    letter ? String(letter.deliveries) : '-',
    letter ? letter.failedAt : entry.storedAt.toISOString(),
    firstLine(letter ? letter.error : `(not a dead letter: ${entry.problem})`),
  ];
}

function table(entries: readonly DeadLetterEntry[]): string {
  const rows = [
    ['SEQ', 'SERVICE', 'SUBJECT', 'DELIVERIES', 'FAILED AT', 'ERROR'],
    ...entries.map(row),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Prints one line per message and a summary; the exit code says whether anything failed. */
function report(io: CliIo, results: readonly ActionResult[]): number {
  const counts = new Map<string, number>();
  for (const r of results) {
    counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    io.out(`seq ${r.seq}: ${r.outcome}: ${r.detail}\n`);
  }
  const summary = [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
  io.err(`${summary || 'nothing done'}\n`);
  return results.some((r) => r.outcome === 'failed') ? EXIT.failed : EXIT.ok;
}

const missingResults = (seqs: readonly number[]): ActionResult[] =>
  seqs.map((seq) => ({
    seq,
    outcome: 'failed',
    detail: `no dead letter at ${DLQ_STREAM} seq ${seq} (already replayed or dropped?)`,
  }));

async function execute(admin: DeadLetterAdmin, command: Action, io: CliIo): Promise<number> {
  switch (command.name) {
    case 'list': {
      const { entries, unread } = await admin.list({ ...command.filter, limit: command.limit });
      if (entries.length === 0 && unread === 0) {
        io.err('no dead letters\n');
        return EXIT.ok;
      }
      io.out(`${table(entries)}\n`);
      io.err(
        `${plural(entries.length, 'dead letter')}` +
          (unread > 0
            ? `; stopped at --limit ${command.limit} with ${unread} more to read\n`
            : '\n'),
      );
      return EXIT.ok;
    }
    case 'show': {
      const entry = await admin.get(command.seq);
      if (!entry) {
        io.err(`no dead letter at ${DLQ_STREAM} seq ${command.seq}\n`);
        return EXIT.failed;
      }
      if (!entry.letter) {
        io.err(
          `${DLQ_STREAM} seq ${command.seq} (${entry.dlqSubject}) is not a dead letter: ${entry.problem}\n`,
        );
        return EXIT.failed;
      }
      io.out(`${JSON.stringify(entry.letter, null, 2)}\n`);
      return EXIT.ok;
    }
    case 'replay':
    case 'drop': {
      const { entries, missing } = command.all
        ? { ...(await admin.list(command.filter)), missing: [] }
        : await admin.find(command.seqs);
      if (command.all && entries.length === 0) {
        io.err('no dead letters match\n');
        return EXIT.ok;
      }
      if (command.name === 'drop' && entries.length > 0) io.out(`dropping:\n${table(entries)}\n`);
      const done =
        command.name === 'replay'
          ? await admin.replayEntries(entries)
          : await admin.dropEntries(entries);
      // In the order asked for, missing ones included.
      const order = (r: ActionResult): number => command.seqs.indexOf(r.seq);
      return report(
        io,
        [...missingResults(missing), ...done].sort((a, b) => order(a) - order(b)),
      );
    }
  }
}

/** `npm run dlq -- …`: returns the exit code instead of exiting, so specs can run it. */
export async function runDeadLetterCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: Action;
  let options: ConnectionOptions;
  try {
    const parsed = parseCommand(argv);
    if (parsed.name === 'help') {
      io.out(USAGE);
      return EXIT.ok;
    }
    command = parsed;
    options = connectionOptions(io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`dlq: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }

  let nc: NatsConnection;
  try {
    nc = (await connect(options)) as NatsConnection;
  } catch (error) {
    io.err(
      `dlq: cannot connect to NATS at ${redactUrlSecrets(natsUrl(io.env))}: ${redactUrlSecrets(errorMessage(error))}\n`,
    );
    return EXIT.failed;
  }
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.info(DLQ_STREAM).catch((error: unknown) => {
      throw new Error(
        `stream ${DLQ_STREAM} is not readable (${errorMessage(error)}); has a service started against this NATS?`,
      );
    });
    return await execute(new DeadLetterAdmin(jetstream(nc), jsm), command, io);
  } catch (error) {
    io.err(`dlq: ${errorMessage(error)}\n`);
    return EXIT.failed;
  } finally {
    await nc.close();
  }
}

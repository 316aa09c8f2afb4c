import { runDeadLetterCli } from '@sup/jetstream';

/** `npm run dlq -- list|show|replay|drop …`; the logic (and its specs) live in libs/jetstream. */
runDeadLetterCli(process.argv.slice(2), {
  env: process.env,
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

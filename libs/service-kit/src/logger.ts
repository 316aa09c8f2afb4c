import pino, { type Logger } from 'pino';

/** One JSON logger per process; `service` is on every line so aggregated logs stay attributable. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

import pino from 'pino';

/** The subset of pino this library logs through, so a service passes its own root logger. */
export interface JetStreamLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const defaultLogger = (service: string): JetStreamLogger =>
  pino({ base: { service, component: 'jetstream' } });

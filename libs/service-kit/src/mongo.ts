import { ConnectionStates, type Connection } from 'mongoose';
import type { HealthCheck } from './health';

export function mongoHealthCheck(connection: Connection): HealthCheck {
  return {
    name: 'mongo',
    async check() {
      if (connection.readyState !== ConnectionStates.connected || !connection.db) return false;
      await connection.db.admin().ping();
      return true;
    },
  };
}

/** E11000: the upsert lost a race to an identical insert, which for idempotent writes means "done". */
export function isDuplicateKeyError(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

import { createHash, randomBytes } from 'node:crypto';

export interface UpdateIdentity {
  kind?: unknown;
  component?: unknown;
  platform?: unknown;
  version?: unknown;
  sha256?: unknown;
}

const part = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);

/**
 * Same update, same id: a re-sync of a feed or a replay of an event maps to the record that
 * exists. The published SHA-256 is part of the identity, so a vendor re-issuing a version with
 * other bytes is a new update that is checked on its own.
 */
export function updateIdFor(identity: UpdateIdentity): string {
  const key = [
    identity.kind,
    identity.component,
    identity.platform,
    identity.version,
    identity.sha256,
  ]
    .map(part)
    .join('\u0000');
  return `upd_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

export const newSyncId = (): string => `sync_${randomBytes(12).toString('hex')}`;
export const newImportId = (): string => `imp_${randomBytes(12).toString('hex')}`;

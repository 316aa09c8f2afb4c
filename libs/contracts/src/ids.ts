import { createHash, randomBytes } from 'node:crypto';
import { canonicalUpdateVersion } from './versions';

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
 * other bytes is a new update that is checked on its own. The version enters in its canonical
 * form, so `20.0.1-12345` and `20.0.1.12345` (one build, two spellings) are one update; a version
 * that cannot be read enters raw (its entry is refused, and the refusal needs an id too).
 */
export function updateIdFor(identity: UpdateIdentity): string {
  const version =
    canonicalUpdateVersion(identity.kind, identity.component, identity.version) ?? identity.version;
  const key = [identity.kind, identity.component, identity.platform, version, identity.sha256]
    .map(part)
    .join('\u0000');
  return `upd_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

export const newSyncId = (): string => `sync_${randomBytes(12).toString('hex')}`;
export const newImportId = (): string => `imp_${randomBytes(12).toString('hex')}`;

import {
  INVALID_VERSION_CODES,
  LOCAL_ONLY_COMPONENTS,
  updateIdFor,
  type EventData,
  type SUBJECTS,
} from '@sup/contracts';
import type { ZodError } from 'zod';

type Rejected = EventData<typeof SUBJECTS.rejected>;
type Source = Rejected['source'];

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length <= 256 ? v : undefined;
const pathOf = (raw: Record<string, unknown>): string | undefined =>
  typeof raw.artifact === 'object' && raw.artifact !== null
    ? str((raw.artifact as Record<string, unknown>).path)
    : undefined;
const shaOf = (raw: Record<string, unknown>): unknown =>
  typeof raw.artifact === 'object' && raw.artifact !== null
    ? (raw.artifact as Record<string, unknown>).sha256
    : undefined;

/**
 * The named code of an unreadable version (`invalid-software-version`, `invalid-manager-version`,
 * ...) when the version is all that is wrong; an entry wrong in other ways too stays
 * `invalid-entry`, with every issue listed in its reason.
 */
function versionCodeOf(error: ZodError): string | undefined {
  const codes = error.issues.map((issue): unknown =>
    issue.code === 'custom' ? issue.params?.code : undefined,
  );
  const known = Object.values(INVALID_VERSION_CODES) as unknown[];
  return codes.every((c) => known.includes(c)) ? (codes[0] as string | undefined) : undefined;
}

/** Why a feed entry (or manifest) is refused before anything is fetched, in an operator's words. */
export function classifyInvalidEntry(
  raw: Record<string, unknown>,
  error: ZodError,
): { code: string; reason: string } {
  if (
    (LOCAL_ONLY_COMPONENTS as readonly string[]).includes(String(raw.component)) ||
    raw.kind === 'application-control'
  ) {
    return {
      code: 'local-only-component',
      reason:
        "application-control rules are made locally from each computer's software and are never imported from a vendor",
    };
  }
  const issues = error.issues.map((i) => `${i.path.join('.') || 'entry'}: ${i.message}`);
  const escapes = error.issues.some(
    (i) => i.path.at(-1) === 'path' && i.message.includes('relative path'),
  );
  return {
    code: escapes ? 'path-escape' : (versionCodeOf(error) ?? 'invalid-entry'),
    reason: `invalid feed entry: ${issues.join('; ')}`,
  };
}

/** A rejection for an entry that never became a descriptor: it is identified by its raw labels. */
export function entryRejection(
  raw: Record<string, unknown>,
  code: string,
  reason: string,
  source: Source,
): Rejected {
  const entry = Object.fromEntries(
    Object.entries({
      kind: str(raw.kind),
      component: str(raw.component),
      platform: str(raw.platform),
      version: str(raw.version),
    }).filter(([, v]) => v !== undefined),
  );
  const file = pathOf(raw);
  return {
    updateId: updateIdFor({
      kind: raw.kind,
      component: raw.component,
      platform: raw.platform,
      version: raw.version,
      sha256: shaOf(raw),
    }),
    stage: 'feed',
    code,
    reason,
    ...(file ? { file } : {}),
    entry,
    ...(source ? { source } : {}),
    rejectedAt: new Date().toISOString(),
  };
}

import { FeedIndexSchema, type FeedIndex } from '@sup/contracts';
import type { ZodIssue } from 'zod';

/** Default bounds of the two small files every sync reads first (override per call). */
export const DEFAULT_INDEX_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_INDEX_SIGNATURE_MAX_BYTES = 1024 * 1024;

export type IndexParseResult =
  | { ok: true; index: FeedIndex }
  | { ok: false; problem: 'too-large' | 'not-utf8' | 'not-json' | 'schema'; issues: string[] };

export function formatIssues(issues: readonly ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/**
 * Parses `index.json` bytes. Call it only on bytes whose signature has verified: parsing is the
 * expensive, attacker-reachable part. Never throws, and its problems never quote the bytes
 * (JSON.parse's message does, so it is dropped).
 */
export function parseFeedIndex(
  bytes: Uint8Array,
  maxBytes = DEFAULT_INDEX_MAX_BYTES,
): IndexParseResult {
  if (bytes.length > maxBytes) {
    return { ok: false, problem: 'too-large', issues: [`over ${maxBytes} bytes`] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problem: 'not-utf8', issues: ['it is not valid UTF-8'] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not-json', issues: ['it is not valid JSON'] };
  }
  const parsed = FeedIndexSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problem: 'schema', issues: formatIssues(parsed.error.issues) };
  }
  return { ok: true, index: parsed.data };
}

import { FeedEntrySchema, type FeedEntry, type FeedIndex } from '@sup/contracts';
import { classifyInvalidEntry } from '../entries/entry-rejection';
import { idOf } from '../entries/entry-importer.service';

/** An entry of a verified index that passed the entry schema, with its update id. */
export interface IndexEntry {
  id: string;
  entry: FeedEntry;
}

/** What a path named by a verified index is: one file of an entry, or a file of an invalid entry. */
export type IndexTarget =
  { role: 'artifact' | 'signature'; entry: IndexEntry } | { role: 'invalid'; reason: string };

export interface IndexTargets {
  entries: IndexEntry[];
  byPath: Map<string, IndexTarget>;
}

/**
 * The files a verified index names. Invalid entries are kept by path so that a file uploaded for
 * one is refused with the entry's problem rather than "not in the index". When two entries name
 * one path, the first is what the path is checked against as it streams in; every entry is
 * checked again against its own signed values once all files are in.
 */
export function indexTargets(index: FeedIndex): IndexTargets {
  const entries: IndexEntry[] = [];
  const byPath = new Map<string, IndexTarget>();
  const name = (path: unknown, target: IndexTarget): void => {
    if (typeof path === 'string' && !byPath.has(path)) byPath.set(path, target);
  };
  for (const raw of index.updates) {
    const parsed = FeedEntrySchema.safeParse(raw);
    if (parsed.success) {
      const entry = { id: idOf(parsed.data), entry: parsed.data };
      entries.push(entry);
      name(parsed.data.artifact.path, { role: 'artifact', entry });
      name(parsed.data.signature.path, { role: 'signature', entry });
      continue;
    }
    const { reason } = classifyInvalidEntry(raw, parsed.error);
    const files = raw as { artifact?: { path?: unknown }; signature?: { path?: unknown } };
    name(files.artifact?.path, { role: 'invalid', reason });
    name(files.signature?.path, { role: 'invalid', reason });
  }
  return { entries, byPath };
}

/** How an entry is named in messages: the labels an operator knows it by. */
export const labelOf = ({ entry }: IndexEntry): string =>
  [entry.component, entry.kind === 'software' ? entry.platform : undefined, entry.version]
    .filter(Boolean)
    .join(' ');

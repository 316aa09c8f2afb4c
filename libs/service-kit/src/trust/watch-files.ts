import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/**
 * Calls `onChange` once things settle (`debounceMs` after the last event) whenever one of `paths`
 * is written, removed or replaced. Watches the parent directories, not the files: an editor or a
 * deployment that writes a new file and renames it over the old one replaces the inode, which a
 * watch on the file itself would lose. Returns a function that stops watching.
 */
export function watchFiles(
  paths: readonly string[],
  debounceMs: number,
  onChange: () => void,
  onError: (error: Error, dir: string) => void,
): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const path of paths) {
    const dir = dirname(path);
    byDir.set(dir, (byDir.get(dir) ?? new Set()).add(basename(path)));
  }
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, filename) => {
        // Some platforms give no name; a reload of unchanged files costs little.
        if (!filename || names.has(filename.toString())) schedule();
      });
      watcher.on('error', (error) => onError(error, dir));
      watchers.push(watcher);
    } catch (error) {
      onError(error as Error, dir);
    }
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}

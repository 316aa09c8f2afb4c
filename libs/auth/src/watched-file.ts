import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WatchedFileOptions<T> {
  /** Parses the file's text; throws with a readable message when it is unusable. */
  parse(text: string): T;
  /** Quiet time after the last change before the file is read again. */
  debounceMs?: number;
  onReload?(value: T): void;
  onError?(error: unknown): void;
}

/**
 * A configuration file that is read at start and again whenever it changes. The directory is
 * watched, not the file: editors and `mv` replace the file (a new inode), and a Kubernetes
 * secret volume swaps a `..data` symlink, neither of which a watch on the old file would see.
 * A change that does not parse keeps the previous value (and is reported): a half-written or
 * broken file must not lock everyone out.
 */
export class WatchedFile<T> {
  private value: T;
  private text: string;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private reloading = Promise.resolve();

  /** Reads and parses the file now; throws when it is missing or invalid (a start-up error). */
  constructor(
    readonly path: string,
    private readonly options: WatchedFileOptions<T>,
  ) {
    this.text = readFileSync(path, 'utf8');
    this.value = options.parse(this.text);
  }

  current(): T {
    return this.value;
  }

  watch(): this {
    this.watcher = watch(dirname(this.path), { persistent: false }, () => this.schedule());
    this.watcher.on('error', (error) => this.options.onError?.(error));
    return this;
  }

  /** Reads the file again now (also what a change triggers); resolves once it is done. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.readAgain());
    return this.reloading;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.options.debounceMs ?? 200);
    this.timer.unref();
  }

  private async readAgain(): Promise<void> {
    try {
      const text = await readFile(this.path, 'utf8');
      if (text === this.text) return;
      const value = this.options.parse(text);
      this.text = text;
      this.value = value;
      this.options.onReload?.(value);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}

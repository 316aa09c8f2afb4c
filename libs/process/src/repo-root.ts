import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The workspace root, whether this file runs from source (jest) or from dist/ (npm start, bench). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** A service's built entry point (`npm run build` makes it). */
export const serviceEntry = (name: string): string =>
  join(repoRoot(), 'dist/services', name, 'main.js');

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The file that marks the project root: the default settings every process reads. */
const MARKER = join('config', 'settings.yaml');

/**
 * The nearest folder above `start` that holds config/settings.yaml. The same code runs from
 * packages/config/src (development, under tsx) and from a bundle in apps/<app>/dist or dist/
 * (the production build), so the root cannot be a fixed number of `..` from this file.
 */
export function findProjectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER))) return dir;
    if (dirname(dir) === dir) {
      throw new Error(`config: no ${MARKER} in ${start} or any folder above it; run from the project (or its build output)`);
    }
  }
}

/** The repository root (or installed copy): relative paths in settings are resolved against it. */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

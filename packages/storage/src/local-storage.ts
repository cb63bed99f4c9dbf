import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { assertSafeKey, type Storage } from './storage.ts';

/**
 * Files under one folder on this host. Several API replicas on the same host can share it;
 * replicas on different hosts need a shared filesystem or another Storage implementation.
 */
export function createLocalStorage(root: string): Storage {
  const base = resolve(root);

  const pathOf = (key: string) => {
    assertSafeKey(key);
    const path = resolve(base, key);
    const rel = relative(base, path);
    // Belt and braces: the key pattern already forbids this.
    if (rel.startsWith('..') || isAbsolute(rel)) throw new Error(`storage key escapes root: ${key}`);
    return path;
  };

  return {
    async put(key, data) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Write beside the target and rename: rename is atomic on one filesystem.
      const temp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
      try {
        await writeFile(temp, data, { flag: 'wx' });
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async size(key) {
      try {
        const info = await stat(pathOf(key));
        return info.isFile() ? info.size : undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    read(key, range) {
      return createReadStream(pathOf(key), range);
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

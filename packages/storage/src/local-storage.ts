import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertSafeKey, TooLargeError, type Storage } from './storage.ts';

/** Prefix of in-progress writes; keys cannot start with a dot, so these never collide with objects. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Files under one folder on this host. Several API replicas on the same host can share it: every
 * write goes to a temporary file beside its target and is renamed into place, which is atomic on
 * one filesystem. Replicas on different hosts need the folder on a shared filesystem that keeps
 * rename atomic (NFSv4, CephFS…) or another Storage implementation (an object store).
 *
 * A process killed mid-write can leave `.tmp-*` files; they are never served and safe to delete.
 */
export function createLocalStorage(root: string): Storage {
  const base = resolve(root);

  const pathOf = (key: string) => {
    assertSafeKey(key);
    const path = resolve(base, key);
    const rel = relative(base, path);
    // Belt and braces: the key pattern already forbids this.
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`storage key escapes root: ${key}`);
    return path;
  };

  const tempBeside = (path: string) => join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);

  return {
    async put(key, data) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = tempBeside(path);
      try {
        await writeFile(temp, data, { flag: 'wx' });
        await rename(temp, path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },

    async writeStream(key, source, { maxBytes }) {
      if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new Error(`maxBytes must be a non-negative integer: ${maxBytes}`);
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temp = tempBeside(path);
      // The file exists before any byte flows, so cleanup can never race its creation.
      const handle = await open(temp, 'wx');
      let size = 0;
      try {
        const meter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            if (size > maxBytes) done(new TooLargeError(maxBytes));
            else done(null, chunk);
          },
        });
        // `flush` fsyncs before the stream closes the handle: after a crash the key holds the old
        // bytes or all the new ones, never a short file.
        await pipeline(source, meter, handle.createWriteStream({ flush: true }));
        await handle.close();
        await rename(temp, path);
        return { size };
      } catch (err) {
        if (!source.destroyed) source.destroy();
        // Waits for the write stream to let go of the handle, so the unlink comes last.
        await handle.close().catch(() => {});
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

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { createLocalStorage } from '../src/local-storage.ts';
import { storageContract } from './storage-contract.ts';

async function listTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)).split(sep).join('/'))
    .sort();
}

storageContract('local folder', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'im-storage-'));
  const root = join(parent, 'root');
  const storage = createLocalStorage(root);
  await storage.put('seed/ready', Buffer.from('x')); // the root exists from here on
  return {
    storage,
    listEverything: () => listTree(root),
    close: () => rm(parent, { recursive: true, force: true }),
  };
});

describe('createLocalStorage', () => {
  it('never touches a file beside the root, whatever the key', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'im-storage-'));
    try {
      await writeFile(join(parent, 'canary'), 'canary');
      const storage = createLocalStorage(join(parent, 'root'));
      for (const key of ['../canary', 'x/../../canary', `${parent}/canary`]) {
        await assert.rejects(storage.remove(key), /unsafe storage key/);
        assert.throws(() => storage.read(key), /unsafe storage key/);
      }
      assert.equal(await readFile(join(parent, 'canary'), 'utf8'), 'canary');
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

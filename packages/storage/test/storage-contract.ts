import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { TooLargeError, type Storage } from '../src/storage.ts';

/** One storage under test plus a way to see everything its backend holds. */
export interface StorageUnderTest {
  storage: Storage;
  /**
   * Every object the backend holds, temporary ones included (for a folder: every file below the
   * root, relative, with `/` separators). Used to prove failed writes leave nothing behind.
   */
  listEverything(): Promise<string[]>;
  close(): Promise<void>;
}

export type StorageFactory = () => Promise<StorageUnderTest>;

/**
 * What every Storage implementation must do; registered as node:test tests under `name`. Run it
 * from `<implementation>.test.ts`, as `local-storage.test.ts` does.
 */
export function storageContract(name: string, factory: StorageFactory): void {
  describe(`Storage contract: ${name}`, () => {
    let under: StorageUnderTest;
    let storage: Storage;
    before(async () => {
      under = await factory();
      storage = under.storage;
    });
    after(() => under.close());

    const key = (label: string) => `files/contract/${label}-${randomBytes(4).toString('hex')}`;
    const readAll = (k: string, range?: { start: number; end: number }) => buffer(storage.read(k, range));

    it('refuses keys that could leave the root, in every method', async () => {
      const unsafe = [
        '../outside',
        'files/../../outside',
        '/etc/passwd',
        'C:\\Windows\\win.ini',
        'files\\..\\x',
        'files/./x',
        'files//x',
        'files/x\0.png',
        '.hidden',
        'files/.tmp-x',
        'Files/Upper',
        '',
        'a/'.repeat(200) + 'x',
        '%2e%2e/x',
      ];
      for (const bad of unsafe) {
        await assert.rejects(storage.put(bad, Buffer.from('x')), /unsafe storage key/, `put ${JSON.stringify(bad)}`);
        await assert.rejects(
          storage.writeStream(bad, Readable.from([Buffer.from('x')]), { maxBytes: 10 }),
          /unsafe storage key/,
          `writeStream ${JSON.stringify(bad)}`,
        );
        await assert.rejects(storage.size(bad), /unsafe storage key/, `size ${JSON.stringify(bad)}`);
        await assert.rejects(storage.remove(bad), /unsafe storage key/, `remove ${JSON.stringify(bad)}`);
        assert.throws(() => storage.read(bad), /unsafe storage key/, `read ${JSON.stringify(bad)}`);
      }
    });

    it('stores, measures, reads ranges and removes', async () => {
      const k = key('basic');
      const bytes = randomBytes(70_000);
      assert.equal(await storage.size(k), undefined);
      const { size } = await storage.writeStream(k, Readable.from(chunks(bytes, 4096)), { maxBytes: bytes.length });
      assert.equal(size, bytes.length);
      assert.equal(await storage.size(k), bytes.length);
      assert.deepEqual(await readAll(k), bytes);
      assert.deepEqual(await readAll(k, { start: 10, end: 19 }), bytes.subarray(10, 20));
      assert.deepEqual(await readAll(k, { start: bytes.length - 1, end: bytes.length - 1 }), bytes.subarray(-1));
      await storage.remove(k);
      assert.equal(await storage.size(k), undefined);
      await storage.remove(k); // missing is fine
    });

    it('stores an empty object', async () => {
      const k = key('empty');
      assert.deepEqual(await storage.writeStream(k, Readable.from([]), { maxBytes: 0 }), { size: 0 });
      assert.equal(await storage.size(k), 0);
      await storage.remove(k);
    });

    it('replaces atomically: a failed replace keeps the old bytes, a finished one shows only the new', async () => {
      const k = key('replace');
      const before = await under.listEverything();
      await storage.put(k, Buffer.from('old bytes'));

      await assert.rejects(
        storage.writeStream(k, Readable.from(chunks(randomBytes(100), 10)), { maxBytes: 50 }),
        TooLargeError,
      );
      assert.deepEqual(await readAll(k), Buffer.from('old bytes'));

      // Readers during a replace see the whole old or the whole new version, never a mix.
      const newer = randomBytes(300_000);
      let done = false;
      const writing = storage.writeStream(k, slowly(newer, 16_384), { maxBytes: newer.length }).finally(() => {
        done = true;
      });
      let reads = 0;
      while (!done) {
        const seen = await readAll(k);
        assert.ok(seen.equals(Buffer.from('old bytes')) || seen.equals(newer), `read ${reads} saw ${seen.length} mixed bytes`);
        reads += 1;
      }
      assert.equal((await writing).size, newer.length);
      assert.deepEqual(await readAll(k), newer);
      await storage.put(k, Buffer.from('third'));
      assert.deepEqual(await readAll(k), Buffer.from('third'));

      await storage.remove(k);
      assert.deepEqual(await under.listEverything(), before);
    });

    it('a write over maxBytes throws TooLargeError and leaves nothing', async () => {
      const k = key('large');
      const before = await under.listEverything();
      const err = await storage
        .writeStream(k, slowly(randomBytes(200_000), 8192), { maxBytes: 100_000 })
        .then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof TooLargeError, `expected TooLargeError, got ${String(err)}`);
      assert.equal(err.maxBytes, 100_000);
      assert.equal(await storage.size(k), undefined);
      assert.deepEqual(await under.listEverything(), before);
    });

    it('exactly maxBytes is accepted', async () => {
      const k = key('exact');
      const bytes = randomBytes(1000);
      assert.deepEqual(await storage.writeStream(k, Readable.from([bytes]), { maxBytes: 1000 }), { size: 1000 });
      await storage.remove(k);
    });

    it('a source that fails midway rethrows its error and leaves nothing', async () => {
      const k = key('aborted');
      const before = await under.listEverything();
      const failure = new Error('client went away');
      const source = new Readable({ read() {} });
      const writing = storage.writeStream(k, source, { maxBytes: 1_000_000 });
      source.push(randomBytes(50_000));
      setTimeout(() => source.destroy(failure), 20);
      await assert.rejects(writing, (err) => err === failure);
      assert.equal(await storage.size(k), undefined);
      assert.deepEqual(await under.listEverything(), before);
    });

    it('a source destroyed without an error also leaves nothing', async () => {
      const k = key('destroyed');
      const before = await under.listEverything();
      const source = new Readable({ read() {} });
      const writing = storage.writeStream(k, source, { maxBytes: 1_000_000 });
      source.push(randomBytes(10_000));
      setTimeout(() => source.destroy(), 20);
      await assert.rejects(writing);
      assert.equal(await storage.size(k), undefined);
      assert.deepEqual(await under.listEverything(), before);
    });
  });
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** A source that yields to the event loop between chunks, like a network upload. */
function slowly(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks(bytes, size)) {
        await new Promise((resolve) => setImmediate(resolve));
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

import type { Readable } from 'node:stream';

/**
 * Where uploaded files and avatars live. Keys are made by the server (never from a client's
 * string) and look like `avatar/1a2b3c4d5e.png` or `files/2025/05/<random hex>`; a user's file name
 * is metadata kept in the database, never part of a key. Implementations still refuse any key that
 * could leave their root.
 *
 * Every implementation must pass the contract in `packages/storage/test/storage-contract.ts`
 * (run it from a `<impl>.test.ts` beside the local one): unsafe keys refused by every method,
 * atomic replace, and nothing left behind by a write that is too large or whose source fails.
 */
export interface Storage {
  /** Writes the whole object atomically: readers see the old bytes or the new, never a part. */
  put(key: string, data: Buffer): Promise<void>;
  /**
   * Streams `source` into the object without holding it in memory, atomically like `put`: the
   * bytes go to a temporary object that becomes `key` only once the source has ended.
   *
   * - More than `maxBytes` bytes: the write stops, the temporary object is deleted and the promise
   *   rejects with {@link TooLargeError}. An existing object under `key` is left untouched.
   * - The source errors or is destroyed: the temporary object is deleted and the error is rethrown.
   *
   * On failure the source is destroyed too (as `stream.pipeline` does); callers that still need
   * the underlying connection (an HTTP request) must drain it themselves.
   */
  writeStream(key: string, source: Readable, options: WriteStreamOptions): Promise<{ size: number }>;
  /** Size in bytes, or undefined when the object does not exist. */
  size(key: string): Promise<number | undefined>;
  /** A stream of the bytes, optionally a byte range (inclusive ends, as in HTTP). */
  read(key: string, range?: { start: number; end: number }): Readable;
  /** Removes the object; missing objects are fine. */
  remove(key: string): Promise<void>;
}

export interface WriteStreamOptions {
  /** Largest object accepted, in bytes; one byte more aborts the write. Must be a non-negative integer. */
  maxBytes: number;
}

/** The source of a `writeStream` had more bytes than `maxBytes`; nothing was stored. */
export class TooLargeError extends Error {
  override name = 'TooLargeError';
  constructor(readonly maxBytes: number) {
    super(`object larger than ${maxBytes} bytes`);
  }
}

/** Keys are lowercase path segments of safe characters; anything else is a bug or an attack. */
const KEY_PATTERN = /^[a-z0-9_-]+(\/[a-z0-9_-][a-z0-9._-]*)*$/;
const MAX_KEY_LENGTH = 255;

export function assertSafeKey(key: string): void {
  if (
    typeof key !== 'string' ||
    key.length > MAX_KEY_LENGTH ||
    !KEY_PATTERN.test(key) ||
    key.split('/').some((part) => part === '..' || part === '.')
  ) {
    throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
  }
}

import type { Readable } from 'node:stream';

/**
 * Where uploaded files and avatars live. Keys are made by the server (never from a client's
 * string) and look like `avatar/1a2b3c4d5e.png`; implementations still refuse any key that could
 * leave their root.
 */
export interface Storage {
  /** Writes the whole object atomically: readers see the old bytes or the new, never a part. */
  put(key: string, data: Buffer): Promise<void>;
  /** Size in bytes, or undefined when the object does not exist. */
  size(key: string): Promise<number | undefined>;
  /** A stream of the bytes, optionally a byte range (inclusive ends, as in HTTP). */
  read(key: string, range?: { start: number; end: number }): Readable;
  /** Removes the object; missing objects are fine. */
  remove(key: string): Promise<void>;
}

/** Keys are lowercase path segments of safe characters; anything else is a bug or an attack. */
const KEY_PATTERN = /^[a-z0-9_-]+(\/[a-z0-9_-][a-z0-9._-]*)*$/;

export function assertSafeKey(key: string): void {
  if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`unsafe storage key: ${JSON.stringify(key)}`);
  }
}
